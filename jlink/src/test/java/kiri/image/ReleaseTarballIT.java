package kiri.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball as a user downloads it: unpacked into an empty folder and started with an environment that
 * names no JDK (no JAVA_HOME, a PATH without one), it runs a broker that a real producer writes to, with its
 * metrics listener ready, and prints nothing on stderr (so its AOT cache was accepted where it was unpacked).
 */
class ReleaseTarballIT {
    private static final Pattern LISTENING = Pattern.compile(
            "^kiri broker listening on tcp://[^:]+:(\\d+) .*, metrics http://127\\.0\\.0\\.1:(\\d+)/metrics$");

    @TempDir
    Path work;

    @Test
    void unpackedTarballRunsABrokerWithoutAJdk() throws Exception {
        String version = System.getProperty("kiri.version", "0.1.0-SNAPSHOT");
        Path target = Path.of(System.getProperty("kiri.image", "target/kiri")).getParent();
        Path tarball;
        try (var found = Files.list(target)) {
            List<Path> tarballs = found.filter(f -> f.getFileName().toString().matches(
                    Pattern.quote("kiri-" + version + "-linux-") + "[a-z0-9_]+\\.tar\\.gz")).toList();
            assertEquals(1, tarballs.size(), "one release tarball in " + target + " (mvn package builds it): " + tarballs);
            tarball = tarballs.getFirst();
        }
        Process tar = new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", work.toString()).inheritIO().start();
        assertEquals(0, tar.waitFor());
        Path home = work.resolve("kiri-" + version);
        assertTrue(Files.isExecutable(home.resolve("bin/kiri")), "bin/kiri in the tarball's kiri-" + version + "/");

        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/kiri").toString(), "broker", "--storage",
                "file:" + work.resolve("data"), "--listener", "tcp://127.0.0.1:0", "--metrics-listener", "http://127.0.0.1:0")
                .directory(work.toFile()).redirectError(work.resolve("broker.err").toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/bin:/bin");
        Process broker = pb.start();
        try {
            String line = firstLine(broker);
            Matcher m = LISTENING.matcher(line);
            assertTrue(m.matches(), "startup line: " + line + "\nstderr: " + Files.readString(work.resolve("broker.err")));
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + m.group(1));
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
            try (var producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
                assertEquals(0, producer.send(new ProducerRecord<>("first", "k", "v")).get(30, TimeUnit.SECONDS).offset());
            }
            HttpURLConnection ready = (HttpURLConnection) URI.create("http://127.0.0.1:" + m.group(2) + "/health/ready")
                    .toURL().openConnection();
            assertEquals(200, ready.getResponseCode());
            ready.disconnect();
            broker.destroy();
            assertTrue(broker.waitFor(30, TimeUnit.SECONDS), "broker did not stop on SIGTERM");
            assertEquals("", Files.readString(work.resolve("broker.err")), "nothing on stderr (e.g. a rejected AOT cache)");
        } finally {
            broker.destroyForcibly();
        }
    }

    private static String firstLine(Process p) throws Exception {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        return CompletableFuture.supplyAsync(() -> {
            try {
                String l = r.readLine();
                return l == null ? "<no output; exit " + p.waitFor() + ">" : l;
            } catch (Exception e) {
                return "<" + e + ">";
            }
        }).get(60, TimeUnit.SECONDS);
    }
}
