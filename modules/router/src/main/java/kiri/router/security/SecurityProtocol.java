package kiri.router.security;

/** A listener's security protocol, as Kafka names them in {@code listener.security.protocol.map}. */
public enum SecurityProtocol {
    PLAINTEXT(false, false),
    SSL(true, false),
    SASL_PLAINTEXT(false, true),
    SASL_SSL(true, true);

    public final boolean tls;
    public final boolean sasl;

    SecurityProtocol(boolean tls, boolean sasl) {
        this.tls = tls;
        this.sasl = sasl;
    }

    /** The protocol called {@code name} (case-insensitive), or null. */
    public static SecurityProtocol forName(String name) {
        for (SecurityProtocol p : values()) {
            if (p.name().equalsIgnoreCase(name)) {
                return p;
            }
        }
        return null;
    }
}
