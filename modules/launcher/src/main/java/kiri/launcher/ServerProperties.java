package kiri.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A broker's settings in Apache Kafka's words: a {@code server.properties} file ({@code kiri broker --config FILE})
 * and {@code --override KEY=VALUE} entries, which win over the file as with {@code kafka-server-start}. Keys that
 * map to a {@code kiri broker} flag fill that flag's default: a flag beats its environment variable, which beats
 * the file ({@link #environment}). Keys Kiri does not act on are named once in a warning ({@link #unsupported}).
 */
final class ServerProperties {
    private ServerProperties() {
    }

    /** The prefix under which {@link #environment} answers a flag's value from the properties. */
    static final String FLAG_PREFIX = "kiri.flag:";

    /** Broker flags and the Kafka keys that set them, in order of preference. */
    private static final Map<String, List<String>> FLAG_KEYS = Map.of(
            "--listener", List.of("listeners"),
            "--advertised-listener", List.of("advertised.listeners"),
            "--storage", List.of("log.dirs", "log.dir"),
            "--node-id", List.of("node.id", "broker.id"),
            "--auto-create-topics", List.of("auto.create.topics.enable"),
            "--default-partitions", List.of("num.partitions"),
            "--group-initial-rebalance-delay-ms", List.of("group.initial.rebalance.delay.ms"),
            "--socket-request-max-bytes", List.of("socket.request.max.bytes"),
            "--queued-max-request-bytes", List.of("queued.max.request.bytes"),
            "--metrics-listener", List.of("metrics.listener"));

    /**
     * Kafka broker keys that a cluster storage engine reads as its URL's parameters: the broker lease of
     * {@code postgres://} (see {@link #storageUrl}).
     */
    static final List<String> LEASE_KEYS = List.of("broker.session.timeout.ms", "broker.heartbeat.interval.ms");

    /** Storage URL schemes whose engine takes {@link #LEASE_KEYS}. */
    private static final List<String> LEASED_SCHEMES = List.of("postgres://", "postgresql://");

    /** Keys read elsewhere (security, listeners). */
    private static final Set<String> OTHER_KEYS = Set.of("listener.security.protocol.map", "ssl.keystore.location",
            "ssl.keystore.type", "ssl.keystore.password", "ssl.key.password", "ssl.keystore.certificate.chain",
            "ssl.keystore.key", "ssl.truststore.location", "ssl.truststore.type", "ssl.truststore.password",
            "ssl.truststore.certificates", "ssl.client.auth", "ssl.enabled.protocols", "ssl.protocol");

    /**
     * The file's entries with {@code overrides} ({@code KEY=VALUE}) applied; an empty map for no file and no
     * overrides.
     *
     * @throws IllegalArgumentException one line: a missing or unreadable file, an override without '=', a bad value
     */
    static Map<String, String> load(String file, List<String> overrides) {
        Map<String, String> props = new TreeMap<>();
        if (file != null && !file.isBlank()) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("--config " + file + ": no such file");
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException("--config " + file + ": cannot read it: " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> props.put(k, p.getProperty(k).strip()));
        }
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--override " + o + ": expected KEY=VALUE");
            }
            props.put(o.substring(0, eq).strip(), o.substring(eq + 1).strip());
        }
        validate(props);
        return props;
    }

    private static void validate(Map<String, String> props) {
        for (String key : List.of("node.id", "broker.id", "num.partitions", "group.initial.rebalance.delay.ms",
                "socket.request.max.bytes", "queued.max.request.bytes", LEASE_KEYS.get(0), LEASE_KEYS.get(1))) {
            String v = props.get(key);
            if (v != null) {
                try {
                    Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(key + ": expected an integer, got '" + v + "'");
                }
            }
        }
        String create = props.get("auto.create.topics.enable");
        if (create != null && !create.equalsIgnoreCase("true") && !create.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("auto.create.topics.enable: expected true or false, got '" + create + "'");
        }
    }

    /** The value a broker flag gets from {@code props}, or null. */
    static String flagValue(Map<String, String> props, String flag) {
        for (String key : FLAG_KEYS.getOrDefault(flag, List.of())) {
            String v = props.get(key);
            if (v != null && !v.isEmpty()) {
                // log.dirs lists directories; Kiri keeps one, the first
                return flag.equals("--storage") ? "file:" + v.split(",")[0].strip() : v;
            }
        }
        return null;
    }

    /**
     * {@code storageUrl} with the {@link #LEASE_KEYS} from {@code props} added as query parameters, for a
     * {@code postgres://} (or {@code postgresql://}) URL that does not set them itself (the URL wins, as a flag
     * wins over the file). Other URLs are returned as they are: their engines have no lease.
     */
    static String storageUrl(String storageUrl, Map<String, String> props) {
        if (storageUrl == null || LEASED_SCHEMES.stream().noneMatch(storageUrl::startsWith)) {
            return storageUrl;
        }
        StringBuilder url = new StringBuilder(storageUrl);
        int query = storageUrl.indexOf('?');
        String params = query < 0 ? "" : "&" + storageUrl.substring(query + 1);
        for (String key : LEASE_KEYS) {
            String v = props.get(key);
            if (v != null && !params.contains("&" + key + "=")) {
                url.append(url.indexOf("?") < 0 ? '?' : '&').append(key).append('=').append(v);
            }
        }
        return url.toString();
    }

    /**
     * {@code environment} extended with the flags' values from {@code props}, asked for as
     * {@link #FLAG_PREFIX}{@code --flag} ({@link BrokerCommand.Option#defaultValue}).
     */
    static Function<String, String> environment(Function<String, String> environment, Map<String, String> props) {
        if (props.isEmpty()) {
            return environment;
        }
        return name -> name.startsWith(FLAG_PREFIX) ? flagValue(props, name.substring(FLAG_PREFIX.length()))
                : environment.apply(name);
    }

    /** The keys Kiri does not act on, sorted (empty when all are known). */
    static List<String> unsupported(Map<String, String> props) {
        List<String> out = new ArrayList<>();
        for (String key : props.keySet()) {
            boolean known = OTHER_KEYS.contains(key) || SecuritySettings.KEYS.contains(key) || LEASE_KEYS.contains(key)
                    || FLAG_KEYS.values().stream().anyMatch(keys -> keys.contains(key))
                    || key.startsWith("listener.name.") && (key.endsWith(".sasl.jaas.config") || key.contains(".ssl."));
            if (!known) {
                out.add(key);
            }
        }
        return out;
    }
}
