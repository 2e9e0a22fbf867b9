package kiri.proxy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything a {@link Proxy} needs.
 *
 * @param bind where the bootstrap listener listens; port 0 picks an ephemeral port
 * @param advertisedHost the host clients are told to connect to (for every proxy listener)
 * @param advertisedPort the port advertised for the bootstrap listener; 0 means "the bound port".
 *     Broker listeners are advertised at their bound port shifted by the same offset
 *     ({@code advertisedPort - bound bootstrap port}), so a port-mapping NAT in front of the proxy
 *     that maps a contiguous range works
 * @param origins bootstrap addresses of the origin cluster, tried in turn (host names are resolved
 *     on each connect, so an origin that moves is found again)
 * @param nodePortBase origin broker {@code n} gets a proxy listener on port {@code nodePortBase + n};
 *     a negative value gives every broker listener an ephemeral port (tests)
 * @param eventLoops selector threads per listener; they also serve their client connections' origin connections
 * @param connectTimeout how long a connect to an origin broker may take before the client's
 *     connection is closed
 * @param tls TLS on every proxy listener (clients connect with SSL or SASL_SSL; SASL passes through to the
 *     origin), or {@code null} for plaintext
 * @param originTls TLS to the origin brokers, or {@code null} for plaintext
 */
public record ProxyConfig(InetSocketAddress bind, String advertisedHost, int advertisedPort,
        List<InetSocketAddress> origins, int nodePortBase, int eventLoops, Duration connectTimeout,
        kiri.transport.TlsConfig tls, OriginTls originTls) {

    /** Plaintext listeners. */
    public ProxyConfig(InetSocketAddress bind, String advertisedHost, int advertisedPort,
            List<InetSocketAddress> origins, int nodePortBase, int eventLoops, Duration connectTimeout) {
        this(bind, advertisedHost, advertisedPort, origins, nodePortBase, eventLoops, connectTimeout, null, null);
    }

    public ProxyConfig {
        Objects.requireNonNull(bind, "bind");
        // tls and originTls may be null: plaintext
        Objects.requireNonNull(advertisedHost, "advertisedHost");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        origins = List.copyOf(origins);
        if (origins.isEmpty()) {
            throw new IllegalArgumentException("at least one origin is needed");
        }
        if (advertisedPort < 0 || advertisedPort > 65535) {
            throw new IllegalArgumentException("advertised port must be in 0-65535, got " + advertisedPort);
        }
        if (nodePortBase > 65535) {
            throw new IllegalArgumentException("node port base must be <= 65535, got " + nodePortBase);
        }
        if (eventLoops < 1) {
            throw new IllegalArgumentException("eventLoops must be >= 1, got " + eventLoops);
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive, got " + connectTimeout);
        }
    }

    /**
     * The usual shape: listen on {@code bind}, advertise {@code advertisedHost:advertisedPort}, broker
     * listeners from the bound port + 1 (ephemeral when {@code bind} has port 0), one event loop per
     * processor, 10 s connect timeout.
     */
    public static ProxyConfig of(InetSocketAddress bind, String advertisedHost, int advertisedPort,
            List<InetSocketAddress> origins) {
        return new ProxyConfig(bind, advertisedHost, advertisedPort, origins,
                bind.getPort() == 0 ? -1 : bind.getPort() + 1,
                Runtime.getRuntime().availableProcessors(), Duration.ofSeconds(10), null, null);
    }

    /** The same with TLS on every proxy listener. */
    public ProxyConfig withTls(kiri.transport.TlsConfig listenerTls) {
        return new ProxyConfig(bind, advertisedHost, advertisedPort, origins, nodePortBase, eventLoops, connectTimeout,
                listenerTls, originTls);
    }

    /** The same with TLS to the origin brokers. */
    public ProxyConfig withOriginTls(OriginTls toOrigin) {
        return new ProxyConfig(bind, advertisedHost, advertisedPort, origins, nodePortBase, eventLoops, connectTimeout,
                tls, toOrigin);
    }
}
