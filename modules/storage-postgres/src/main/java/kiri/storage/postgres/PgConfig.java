package kiri.storage.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import kiri.storage.api.StorageUrl;

/**
 * What a {@code postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?params]} URL says. The password may also come from
 * {@code ?password-file=PATH} (its first line) or the {@code PGPASSWORD} environment variable, so that it need
 * not be on the command line; the URL's own password wins, then the file, then the variable.
 *
 * @param pool             connections the engine opens for its work (besides one that listens for notifications and
 *                         one that renews the broker's lease), {@code ?pool=N}
 * @param sessionTimeoutMs a broker whose lease is older is dead, {@code ?broker.session.timeout.ms=} (Kafka's name and default)
 * @param heartbeatMs      how often a broker renews its lease, {@code ?broker.heartbeat.interval.ms=} (Kafka's name and default)
 */
record PgConfig(String user, String password, String host, int port, String database, int pool, long sessionTimeoutMs,
                long heartbeatMs) {
    static final int DEFAULT_PORT = 5432;
    static final int DEFAULT_POOL = 4;
    static final String SESSION_TIMEOUT = "broker.session.timeout.ms";
    static final String HEARTBEAT = "broker.heartbeat.interval.ms";

    /** @throws IllegalArgumentException with a one-line message naming the URL */
    static PgConfig parse(StorageUrl url, Map<String, String> env) {
        url.requireOnlyParams("password-file", "pool", SESSION_TIMEOUT, HEARTBEAT);
        String loc = url.location();
        int at = loc.lastIndexOf('@');
        int slash = loc.indexOf('/', Math.max(at, 0));
        if (at <= 0 || slash < 0 || slash == loc.length() - 1) {
            throw bad(url, "expected " + url.scheme() + "://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
        }
        String userInfo = loc.substring(0, at);
        String hostPort = loc.substring(at + 1, slash);
        String database = decode(loc.substring(slash + 1));
        int colon = userInfo.indexOf(':');
        String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
        String password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
        if (password == null && url.params().containsKey("password-file")) {
            Path file = Path.of(url.param("password-file", ""));
            try {
                password = Files.readAllLines(file, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            } catch (IOException e) {
                throw bad(url, "cannot read password-file " + file + ": " + e.getMessage());
            }
        }
        if (password == null) password = env.get("PGPASSWORD");
        String host = hostPort;
        int port = DEFAULT_PORT;
        int pc = hostPort.lastIndexOf(':');
        if (pc >= 0 && !hostPort.endsWith("]")) {
            host = hostPort.substring(0, pc);
            try {
                port = Integer.parseInt(hostPort.substring(pc + 1));
            } catch (NumberFormatException e) {
                throw bad(url, "bad port '" + hostPort.substring(pc + 1) + "'");
            }
            if (port <= 0 || port > 65535) throw bad(url, "port out of range: " + port);
        }
        if (host.isEmpty() || user.isEmpty()) throw bad(url, "expected " + url.scheme() + "://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
        int pool;
        try {
            pool = Integer.parseInt(url.param("pool", Integer.toString(DEFAULT_POOL)));
        } catch (NumberFormatException e) {
            throw bad(url, "pool must be a number");
        }
        if (pool < 1 || pool > 64) throw bad(url, "pool must be 1..64");
        long session = millis(url, SESSION_TIMEOUT, 9000);
        long heartbeat = millis(url, HEARTBEAT, 2000);
        if (heartbeat >= session) throw bad(url, HEARTBEAT + " must be less than " + SESSION_TIMEOUT);
        return new PgConfig(user, password, host, port, database, pool, session, heartbeat);
    }

    private static long millis(StorageUrl url, String name, long dflt) {
        try {
            long v = Long.parseLong(url.param(name, Long.toString(dflt)));
            if (v > 0) return v;
        } catch (NumberFormatException e) {
            // the message below
        }
        throw bad(url, name + " must be a positive number of milliseconds");
    }

    String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** Connection properties: short connect timeout and a socket timeout, so that a vanished server fails requests instead of hanging them. */
    Properties properties() {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) p.setProperty("password", password);
        p.setProperty("ApplicationName", "kiri");
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "60");
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("reWriteBatchedInserts", "true");
        return p;
    }

    /** For the banner: no password. */
    String describe() {
        return "postgres://" + user + "@" + host + ":" + port + "/" + database;
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static IllegalArgumentException bad(StorageUrl url, String why) {
        return new IllegalArgumentException("storage URL '" + redact(url.raw()) + "': " + why);
    }

    /** The URL with its password replaced, for messages. */
    static String redact(String raw) {
        return raw.replaceFirst("(://[^:/@]*:)[^@]*@", "$1****@");
    }
}
