package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kcat (Debian's librdkafka 2.0.2) on a SASL_PLAINTEXT listener: PLAIN works; a wrong password is refused; its
 * SCRAM is refused because that librdkafka repeats the client nonce in its final message, as Kafka 4.1 refuses it.
 */
class KcatSaslTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = SaslBroker.start("memory://", Map.of());
        bootstrap = SaslBroker.bootstrap(broker, "SASL_PLAINTEXT");
        SaslBroker.addScramUser(SaslBroker.plaintext(broker), "rd", ScramMechanism.SCRAM_SHA_512, "rd-secret");
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    /** Exit code and output of kcat with {@code stdin}. */
    private static Result kcat(String stdin, String mechanism, String user, String password, String... args)
            throws Exception {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", bootstrap, "-X", "security.protocol=SASL_PLAINTEXT",
                "-X", "sasl.mechanisms=" + mechanism, "-X", "sasl.username=" + user, "-X", "sasl.password=" + password,
                "-m", "15"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        boolean finished = p.waitFor(90, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(finished, "kcat finished: " + out);
        return new Result(p.exitValue(), out);
    }

    private record Result(int exit, String out) {
    }

    @Test
    void plainProducesAndConsumes() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            lines.append("line-").append(i).append('\n');
        }
        Result produced = kcat(lines.toString(), "PLAIN", "alice", "alice-secret", "-P", "-t", "kcat-sasl");
        assertEquals(0, produced.exit(), produced.out());
        Result consumed = kcat("", "PLAIN", "alice", "alice-secret", "-C", "-t", "kcat-sasl", "-o", "beginning", "-e");
        assertEquals(0, consumed.exit(), consumed.out());
        assertTrue(consumed.out().contains("line-0\n") && consumed.out().contains("line-199\n"), consumed.out());
    }

    @Test
    void aWrongPasswordAndLibrdkafka202sScramAreRefused() throws Exception {
        Result wrong = kcat("", "PLAIN", "alice", "nope", "-L");
        assertNotEquals(0, wrong.exit(), wrong.out());
        assertTrue(wrong.out().contains("Authentication failed"), wrong.out());
        Result scram = kcat("", "SCRAM-SHA-512", "rd", "rd-secret", "-L");
        assertNotEquals(0, scram.exit(), "librdkafka 2.0.2's final SCRAM message repeats the client nonce: " + scram.out());
        assertTrue(scram.out().contains("nonce"), scram.out());
    }
}
