package kiri.router.security;

import java.util.Objects;

/**
 * Who a connection acts as, in Kafka's notation {@code TYPE:NAME}: {@code User:alice} after SASL,
 * {@code User:CN=client,O=Example} from a TLS client certificate, {@code User:ANONYMOUS} on an unauthenticated
 * listener. ACLs and {@code super.users} name principals this way.
 */
public record KafkaPrincipal(String type, String name) {
    public static final String USER_TYPE = "User";
    public static final KafkaPrincipal ANONYMOUS = new KafkaPrincipal(USER_TYPE, "ANONYMOUS");

    public KafkaPrincipal {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
    }

    public static KafkaPrincipal user(String name) {
        return new KafkaPrincipal(USER_TYPE, name);
    }

    /** {@code TYPE:NAME}; the name may itself contain colons. */
    public static KafkaPrincipal parse(String s) {
        int colon = s.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("principal '" + s + "' must look like User:NAME");
        }
        return new KafkaPrincipal(s.substring(0, colon), s.substring(colon + 1));
    }

    @Override
    public String toString() {
        return type + ":" + name;
    }
}
