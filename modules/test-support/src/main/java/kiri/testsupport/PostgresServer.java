package kiri.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private PostgreSQL server for tests: {@code initdb} and {@code postgres} from Debian's
 * {@code /usr/lib/postgresql/VERSION/bin} on a data directory in a fresh temp dir, listening on
 * 127.0.0.1 and a free port, its socket in the temp dir. The server refuses to run as root, so as
 * root it runs as the {@code postgres} user ({@code runuser}) on a directory that user owns.
 *
 * <p>Superuser {@link #USER} with password {@link #PASSWORD} (scram over TCP). Readiness is checked by
 * connecting ({@code pg_isready}), never by sleeping. {@link #close} stops it ({@code pg_ctl stop -m fast})
 * and deletes the temp dir. Not thread-safe; one instance per test class.
 */
public final class PostgresServer implements AutoCloseable {
    public static final String USER = "kiri";
    public static final String PASSWORD = "kiri-test";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final Path bin;
    private final Path dir;
    private final Path data;
    private final int port;
    private final boolean asPostgresUser;
    private Process server;
    /** The {@code -c} settings of the first start, used again by {@link #startAgain}. */
    private String[] settings = new String[0];
    private final java.util.concurrent.atomic.AtomicInteger databases = new java.util.concurrent.atomic.AtomicInteger();

    private PostgresServer(Path bin, Path dir, int port, boolean asPostgresUser) {
        this.bin = bin;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.port = port;
        this.asPostgresUser = asPostgresUser;
    }

    /**
     * Initializes and starts a server, waiting until it accepts connections.
     *
     * @param settings extra {@code -c name=value} server settings, e.g. {@code "synchronous_commit=on"}
     * @throws IllegalStateException naming the Debian package when PostgreSQL is not installed
     */
    public static PostgresServer start(String... settings) {
        Path bin = findBin();
        boolean root = "root".equals(System.getProperty("user.name"));
        try {
            Path dir = Files.createTempDirectory("kiri-pg-");
            PostgresServer pg = new PostgresServer(bin, dir, freePort(), root);
            try {
                pg.init();
                pg.settings = settings.clone();
                pg.launch(settings);
                return pg;
            } catch (RuntimeException | IOException e) {
                pg.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The newest {@code /usr/lib/postgresql/VERSION/bin} with {@code initdb}. */
    static Path findBin() {
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                var found = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("postgres")))
                        .max(Comparator.comparingInt(PostgresServer::majorVersion));
                if (found.isPresent()) return found.get();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): install the Debian "
                + "package 'postgresql' (scripts/setup-tests.sh does, from scripts/setup.d/postgres.packages)");
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void init() throws IOException {
        Path pwfile = dir.resolve("pwfile");
        Files.writeString(pwfile, PASSWORD + "\n", StandardCharsets.UTF_8);
        if (asPostgresUser) {
            // The postgres user must reach and own its directory; /tmp's own permissions let it traverse.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            run(List.of("chown", "-R", "postgres:postgres", dir.toString()), false);
        }
        run(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "--pwfile=" + pwfile,
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"), true);
    }

    private void launch(String... settings) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
                "-k", dir.toString(), "-p", Integer.toString(port), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB"));
        for (String s : settings) {
            cmd.add("-c");
            cmd.add(s);
        }
        server = new ProcessBuilder(asUser(cmd)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("server.log").toFile()).start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!server.isAlive()) {
                throw new IllegalStateException("postgres exited with " + server.exitValue() + ": " + log());
            }
            // pg_isready connects and asks; it says "no" while the server is still starting up.
            Process ready = new ProcessBuilder(bin.resolve("pg_isready").toString(), "-h", "127.0.0.1", "-p",
                    Integer.toString(port), "-t", "5").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (waitFor(ready) == 0) return;
            if (System.nanoTime() > deadline) throw new IllegalStateException("postgres not ready after " + START_TIMEOUT + ": " + log());
            pause(); // between connection attempts, so that a refused connect does not spin
        }
    }

    /** 127.0.0.1. */
    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The default database. */
    public String database() {
        return "postgres";
    }

    /** {@code postgres://kiri:PASSWORD@127.0.0.1:PORT/postgres}. */
    public String url() {
        return "postgres://" + USER + ":" + PASSWORD + "@" + host() + ":" + port + "/" + database();
    }

    /**
     * Creates an empty database ({@code kiri_test_N}) and returns its {@code postgres://} URL, so that each
     * test starts from nothing on one server. Needs pgjdbc on the test path.
     */
    public String freshDatabaseUrl() {
        String db = "kiri_test_" + databases.incrementAndGet();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl(), USER, PASSWORD);
             java.sql.Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot create database " + db + ": " + e.getMessage(), e);
        }
        return "postgres://" + USER + ":" + PASSWORD + "@" + host() + ":" + port + "/" + db;
    }

    /** The JDBC URL of the default database (user and password separately). */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + host() + ":" + port + "/" + database();
    }

    /** Stops the server with {@code pg_ctl stop -m fast} (a clean shutdown, committed data kept), without deleting anything. */
    public void stop() {
        if (server == null) return;
        try {
            if (server.isAlive()) {
                run(List.of(bin.resolve("pg_ctl").toString(), "stop", "-D", data.toString(), "-m", "fast", "-w", "-t", "60"), true);
            }
            if (!server.waitFor(60, TimeUnit.SECONDS)) server.destroyForcibly();
        } catch (IOException | RuntimeException e) {
            server.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.destroyForcibly();
        }
        server = null;
    }

    /**
     * Kills the postmaster with SIGKILL (a crash: no shutdown checkpoint; its backends notice and exit), keeping the
     * data. {@link #startAgain} then runs crash recovery.
     */
    public void kill() {
        if (server == null) return;
        try {
            String pid = Files.readAllLines(data.resolve("postmaster.pid")).getFirst().trim();
            run(List.of("kill", "-KILL", pid), false);
            if (!server.waitFor(60, TimeUnit.SECONDS)) throw new IllegalStateException("postgres " + pid + " survived SIGKILL");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        server = null;
    }

    /**
     * Starts a stopped or killed server again on the same data, port and settings, waiting until it accepts
     * connections. After {@link #kill} the old backends may still hold the shared memory for a moment: the
     * server refuses to start then, so it is tried again until the start deadline.
     */
    public void startAgain() {
        if (server != null) return;
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            try {
                launch(settings);
                return;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (IllegalStateException e) {
                server = null;
                if (System.nanoTime() > deadline) throw e;
                pause();
            }
        }
    }

    /** Stops the server (fast shutdown) and starts it again on the same data, port and {@code settings}. */
    public void restart(String... settings) {
        stop();
        this.settings = settings.clone();
        startAgain();
    }

    @Override
    public void close() {
        stop();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temp dir
        }
    }

    private String log() {
        try {
            String text = Files.readString(dir.resolve("server.log"));
            return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private List<String> asUser(List<String> cmd) {
        if (!asPostgresUser) return cmd;
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        wrapped.addAll(cmd);
        return wrapped;
    }

    private void run(List<String> cmd, boolean asPostgres) throws IOException {
        Path out = Files.createTempFile("kiri-pg-cmd", ".log");
        try {
            Process p = new ProcessBuilder(asPostgres ? asUser(cmd) : cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            int rc = waitFor(p);
            if (rc != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed (" + rc + "): " + Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static int waitFor(Process p) {
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
