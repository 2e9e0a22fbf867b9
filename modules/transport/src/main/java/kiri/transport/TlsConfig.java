package kiri.transport;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * TLS for a {@link Server}'s connections: the context (keys, trust), whether clients must (or may) present a
 * certificate, and the protocol versions allowed. Immutable and thread-safe; one {@link SSLEngine} is made per
 * accepted connection.
 *
 * @param clientAuth {@code required} (mTLS), {@code requested} or {@code none}, as Kafka's {@code ssl.client.auth}
 * @param protocols e.g. TLSv1.3 and TLSv1.2
 */
public record TlsConfig(SSLContext context, String clientAuth, List<String> protocols) {
    public TlsConfig {
        Objects.requireNonNull(context, "context");
        if (!List.of("required", "requested", "none").contains(clientAuth)) {
            throw new IllegalArgumentException("ssl.client.auth must be required, requested or none, got " + clientAuth);
        }
        protocols = List.copyOf(protocols);
    }

    /** A server-side engine for a connection from {@code peer}. */
    SSLEngine newEngine(InetSocketAddress peer) {
        SSLEngine engine = peer == null ? context.createSSLEngine()
                : context.createSSLEngine(peer.getHostString(), peer.getPort());
        engine.setUseClientMode(false);
        SSLParameters params = engine.getSSLParameters();
        if (!protocols.isEmpty()) {
            params.setProtocols(protocols.toArray(String[]::new));
        }
        switch (clientAuth) {
            case "required" -> params.setNeedClientAuth(true);
            case "requested" -> params.setWantClientAuth(true);
            default -> params.setNeedClientAuth(false);
        }
        engine.setSSLParameters(params);
        return engine;
    }
}
