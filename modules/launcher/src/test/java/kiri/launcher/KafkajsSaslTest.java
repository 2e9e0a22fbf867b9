package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.junit.jupiter.api.Test;

/** kafkajs (Node.js) with SCRAM-SHA-256 and PLAIN on a SASL_PLAINTEXT listener ({@code src/test/kafkajs/sasl.js}). */
class KafkajsSaslTest {
    private static final Path SCRIPTS = Path.of("src/test/kafkajs");

    @Test
    void kafkajsAuthenticatesWithScramSha256AndPlainAndIsRefusedAWrongPassword() throws Exception {
        assertTrue(Files.isDirectory(SCRIPTS.resolve("node_modules/kafkajs")),
                "kafkajs is needed for this test: npm ci --prefix modules/launcher/src/test/kafkajs (test.sh does)");
        try (Broker broker = SaslBroker.start("memory://", Map.of())) {
            SaslBroker.addScramUser(SaslBroker.plaintext(broker), "js-user", ScramMechanism.SCRAM_SHA_256, "js-secret");
            String bootstrap = SaslBroker.bootstrap(broker, "SASL_PLAINTEXT");
            String out = node(bootstrap, "scram-sha-256", "js-user", "js-secret");
            assertTrue(out.contains("kafkajs SASL OK: 100 messages"), out);
            out = node(bootstrap, "plain", "alice", "alice-secret");
            assertTrue(out.contains("kafkajs SASL OK"), out);
            out = node(bootstrap, "scram-sha-256", "js-user", "wrong", "--expect-failure");
            assertTrue(out.contains("kafkajs SASL refused") && out.contains("SASL SCRAM SHA256 authentication failed"), out);
        }
    }

    private static String node(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("node", "sasl.js"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(SCRIPTS.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        boolean finished = p.waitFor(120, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(finished, "node sasl.js finished in 120 s: " + out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
