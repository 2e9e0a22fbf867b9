package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real broker process ({@code java -m kiri.launcher/kiri.launcher.Main broker}) for tests that SIGKILL it: started
 * on a storage URL and a fixed loopback port, returned once it prints its listening line.
 */
final class ChildBroker {
    private ChildBroker() {
    }

    /** Starts the broker with {@code storageUrl} on {@code port}; its stderr goes to {@code stderr}. */
    static Process start(String storageUrl, int port, Path stderr) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String listener = "tcp://127.0.0.1:" + port;
        Process p = new ProcessBuilder(java, "-XX:+UseSerialGC", "-p", modulePath(), "-m",
                "kiri.launcher/kiri.launcher.Main", "broker", "--storage", storageUrl, "--listener", listener,
                "--advertised-listener", listener).redirectError(stderr.toFile()).start();
        CompletableFuture<String> banner = CompletableFuture.supplyAsync(() -> {
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                String line = out.readLine();
                // keep draining so the broker never blocks on a full pipe
                Thread.ofVirtual().start(() -> {
                    try {
                        while (out.readLine() != null) {
                            // discard
                        }
                    } catch (IOException ignored) {
                        // the process went away
                    }
                });
                return line;
            } catch (IOException e) {
                return null;
            }
        });
        String line = banner.get(60, TimeUnit.SECONDS);
        assertNotNull(line, "the broker printed nothing: " + Files.readString(stderr));
        assertTrue(line.startsWith("kiri broker listening"), line + " " + Files.readString(stderr));
        return p;
    }

    /** SIGKILL: no shutdown hook, no close. */
    static void kill(Process broker) throws InterruptedException {
        broker.destroyForcibly();
        assertTrue(broker.waitFor(30, TimeUnit.SECONDS), "the killed broker exited");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The broker's runtime modules out of the test JVM's module path: Kiri's own, picocli, HdrHistogram, aircompressor. */
    static String modulePath() {
        List<String> entries = new ArrayList<>();
        entries.add(Path.of("target", "classes").toAbsolutePath().toString());
        for (String e : System.getProperty("jdk.module.path", "").split(File.pathSeparator)) {
            Path path = Path.of(e);
            String name = path.getFileName() == null ? "" : path.getFileName().toString();
            boolean reactorClasses = name.equals("classes") && !e.contains("test-support");
            boolean runtimeJar = name.startsWith("kiri-") && !name.contains("test-support")
                    || name.startsWith("picocli-") || name.startsWith("HdrHistogram-")
                    || name.startsWith("aircompressor-");
            if ((reactorClasses || runtimeJar) && !entries.contains(path.toAbsolutePath().toString())) {
                entries.add(path.toAbsolutePath().toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
