package kiri.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import kiri.testsupport.PostgresServer;

/**
 * Broker processes of the image ({@code bin/kiri broker}, node ids 1..n) over one private PostgreSQL, the
 * postgres:// engine loaded as a user loads it: the plugin folder of modules/storage-postgres given with
 * {@code --plugins}, the password in {@code PGPASSWORD}. {@link #kill} is a real SIGKILL of the broker's JVM
 * ({@code bin/kiri} execs java, so the process is the JVM). Not thread-safe; one per test.
 */
final class PgBrokers implements AutoCloseable {
    private final PostgresServer pg;
    private final Path dir;
    private final List<Process> brokers = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();

    /**
     * Starts PostgreSQL and {@code n} brokers; {@code storageParams} ({@code ?k=v&...} or empty) ends the storage URL,
     * {@code brokerArgs} end each broker's command line.
     */
    PgBrokers(Path dir, int n, String storageParams, List<String> brokerArgs) throws Exception {
        this.dir = dir;
        this.pg = PostgresServer.start();
        try {
            String storage = "postgres://" + PostgresServer.USER + "@" + pg.host() + ":" + pg.port() + "/" + pg.database()
                    + storageParams;
            for (int node = 1; node <= n; node++) {
                int port = freePort();
                brokers.add(start(storage, node, port, brokerArgs));
                ports.add(port);
            }
        } catch (Exception | AssertionError e) {
            close();
            throw e;
        }
    }

    private Process start(String storage, int node, int port, List<String> brokerArgs) throws Exception {
        Path image = Path.of(System.getProperty("kiri.image", "target/kiri"));
        Path plugin = Path.of(System.getProperty("kiri.postgres.plugin", "../modules/storage-postgres/target/plugin"));
        assertTrue(Files.isDirectory(plugin), "no plugin folder at " + plugin);
        String listener = "tcp://127.0.0.1:" + port;
        List<String> cmd = new ArrayList<>(List.of(image.resolve("bin/kiri").toString(), "broker", "--plugins", plugin.toString(),
                "--storage", storage, "--node-id", Integer.toString(node), "--listener", listener, "--advertised-listener", listener));
        cmd.addAll(brokerArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(stderr(node).toFile());
        pb.environment().put("PGPASSWORD", PostgresServer.PASSWORD);
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return String.valueOf(out.readLine());
            } catch (IOException e) {
                return e.toString();
            }
        }).get(120, TimeUnit.SECONDS);
        assertTrue(line.startsWith("kiri broker listening on " + listener), "broker " + node + ": " + line + "\n"
                + Files.readString(stderr(node)));
        Thread.ofVirtual().start(() -> {
            try {
                while (out.readLine() != null) {
                    // drained, so the broker never blocks on a full pipe
                }
            } catch (IOException ignored) {
                // the process went away
            }
        });
        return p;
    }

    /** {@code 127.0.0.1:PORT} of broker {@code node} (1-based). */
    String bootstrap(int node) {
        return "127.0.0.1:" + ports.get(node - 1);
    }

    /** Every broker's address, comma-separated. */
    String bootstrap() {
        return String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    }

    /** The broker's JVM (bin/kiri execs it): its pid for /proc. */
    long pid(int node) {
        return brokers.get(node - 1).pid();
    }

    /** SIGKILL to broker {@code node}'s JVM (no shutdown hook, no goodbye to PostgreSQL); returns once it is gone. */
    void kill(int node) throws InterruptedException {
        Process p = brokers.get(node - 1);
        p.destroyForcibly(); // kill(pid, SIGKILL) on Linux
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the killed broker exited");
        assertEquals(128 + 9, p.exitValue(), "killed by SIGKILL (exit status 128 + 9)");
    }

    /** The database the brokers share. */
    PostgresServer postgres() {
        return pg;
    }

    Path stderr(int node) {
        return dir.resolve("broker-" + node + ".err");
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : brokers) p.destroy();
        for (Process p : brokers) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        pg.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
