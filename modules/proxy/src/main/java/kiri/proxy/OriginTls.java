package kiri.proxy;

import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * TLS from the proxy to its origin brokers, as a Kafka client configures it ({@code security.protocol=SSL} toward
 * the origin; SASL still passes through, so an origin SASL_SSL listener works too). Immutable.
 *
 * @param context trust for the origin's certificates (and a key for mTLS, if the origin asks for one)
 * @param protocols e.g. TLSv1.3 and TLSv1.2 ({@code ssl.enabled.protocols})
 * @param endpointIdentification Kafka's {@code ssl.endpoint.identification.algorithm}: {@code https} (Kafka's
 *     default) checks that the certificate names the origin host the proxy connects to; empty turns that off
 */
public record OriginTls(SSLContext context, List<String> protocols, String endpointIdentification) {
    public OriginTls {
        Objects.requireNonNull(context, "context");
        protocols = List.copyOf(protocols);
        endpointIdentification = endpointIdentification == null ? "" : endpointIdentification;
    }
}
