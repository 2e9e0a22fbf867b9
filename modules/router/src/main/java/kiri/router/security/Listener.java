package kiri.router.security;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One listener as the router sees it: its name, how it authenticates, and the address it advertises (what
 * Metadata, FindCoordinator and DescribeCluster answer to clients that came in through it, as Kafka answers the
 * endpoint of the same listener name).
 *
 * @param name the listener name ({@code PLAINTEXT}, {@code SASL_SSL}, or a custom one mapped by
 *     {@code listener.security.protocol.map})
 * @param protocol its security protocol
 * @param host the advertised host
 * @param port the advertised port
 * @param mechanisms the SASL mechanisms it offers ({@code sasl.enabled.mechanisms}), in order
 * @param plainUsers PLAIN's users and passwords (the {@code user_NAME} entries of its {@code plain.sasl.jaas.config})
 * @param reauthMs {@code connections.max.reauth.ms}: a SASL session's lifetime, 0 for unlimited (KIP-368)
 */
public record Listener(String name, SecurityProtocol protocol, String host, int port, List<String> mechanisms,
        Map<String, String> plainUsers, long reauthMs) {
    public static final List<String> SUPPORTED_MECHANISMS = List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

    public Listener {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(protocol, "protocol");
        mechanisms = List.copyOf(mechanisms);
        plainUsers = Map.copyOf(plainUsers);
        for (String m : mechanisms) {
            if (!SUPPORTED_MECHANISMS.contains(m)) {
                throw new IllegalArgumentException("SASL mechanism " + m + " is not supported (supported: "
                        + String.join(", ", SUPPORTED_MECHANISMS) + ")");
            }
        }
        if (reauthMs < 0) {
            throw new IllegalArgumentException("connections.max.reauth.ms must be >= 0, got " + reauthMs);
        }
    }

    /** A PLAINTEXT listener advertising {@code host:port}. */
    public static Listener plaintext(String host, int port) {
        return new Listener("PLAINTEXT", SecurityProtocol.PLAINTEXT, host, port, List.of(), Map.of(), 0);
    }
}
