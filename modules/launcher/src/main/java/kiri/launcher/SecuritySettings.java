package kiri.launcher;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import kiri.router.security.Authorizer;
import kiri.router.security.JaasUsers;
import kiri.router.security.KafkaPrincipal;
import kiri.router.security.Listener;
import kiri.transport.TlsConfig;
import kiri.transport.TlsFiles;

/**
 * The broker's authentication and authorization settings, from Kafka's property names:
 * {@code sasl.enabled.mechanisms}, {@code listener.name.NAME.MECHANISM.sasl.jaas.config} (PLAIN's users),
 * {@code connections.max.reauth.ms}, {@code authorizer.class.name}, {@code super.users},
 * {@code allow.everyone.if.no.acl.found}.
 *
 * @param mechanisms the SASL mechanisms SASL listeners offer
 * @param plainUsers PLAIN's users per listener name (upper case)
 * @param authorizer whether ACLs are enforced
 * @param tls the TLS settings of each SSL and SASL_SSL listener, by name ({@code ssl.keystore.*},
 *     {@code ssl.truststore.*}, {@code ssl.client.auth}, {@code ssl.enabled.protocols}, each also
 *     {@code listener.name.NAME.}-prefixed)
 */
public record SecuritySettings(List<String> mechanisms, Map<String, Map<String, String>> plainUsers, long reauthMs,
        boolean authorizer, Set<String> superUsers, boolean allowIfNoAcl, Map<String, TlsConfig> tls) {

    /** No SASL users, no ACLs: what a broker without security settings runs with. */
    public static final SecuritySettings NONE = new SecuritySettings(Listener.SUPPORTED_MECHANISMS, Map.of(), 0,
            false, Set.of(), false, Map.of());

    public SecuritySettings {
        mechanisms = List.copyOf(mechanisms);
        plainUsers = Map.copyOf(plainUsers);
        superUsers = Set.copyOf(superUsers);
        tls = Map.copyOf(tls);
    }

    /** The names this class reads (others may be prefixed {@code listener.name.*}). */
    static final Set<String> KEYS = Set.of("sasl.enabled.mechanisms", "sasl.jaas.config", "connections.max.reauth.ms",
            "authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found");

    /**
     * The settings in {@code props} for {@code listeners}.
     *
     * @throws IllegalArgumentException one clear line naming the bad property
     */
    public static SecuritySettings from(Map<String, String> props, List<BrokerListener> listeners) {
        List<String> mechanisms = new ArrayList<>();
        String enabled = props.get("sasl.enabled.mechanisms");
        if (enabled == null || enabled.isBlank()) {
            mechanisms.addAll(Listener.SUPPORTED_MECHANISMS);
        } else {
            for (String m : enabled.split(",")) {
                String name = m.strip().toUpperCase(Locale.ROOT);
                if (!Listener.SUPPORTED_MECHANISMS.contains(name)) {
                    throw new IllegalArgumentException("sasl.enabled.mechanisms: " + m.strip() + " is not supported (supported: "
                            + String.join(", ", Listener.SUPPORTED_MECHANISMS) + ")");
                }
                mechanisms.add(name);
            }
        }
        Map<String, Map<String, String>> plain = new HashMap<>();
        for (BrokerListener l : listeners) {
            String prefix = "listener.name." + l.name().toLowerCase(Locale.ROOT) + ".";
            String jaas = first(props, prefix + "plain.sasl.jaas.config", prefix + "sasl.jaas.config", "sasl.jaas.config");
            if (jaas != null) {
                try {
                    plain.put(l.name(), JaasUsers.parse(jaas));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("the sasl.jaas.config of listener " + l.name() + ": " + e.getMessage());
                }
            }
        }
        long reauth = longValue(props, "connections.max.reauth.ms", 0);
        String authorizerClass = props.getOrDefault("authorizer.class.name", "").strip();
        if (!authorizerClass.isEmpty() && !Authorizer.CLASS_NAMES.contains(authorizerClass)) {
            throw new IllegalArgumentException("authorizer.class.name: " + authorizerClass + " is not supported (use "
                    + "org.apache.kafka.metadata.authorizer.StandardAuthorizer)");
        }
        Set<String> superUsers = new LinkedHashSet<>();
        for (String p : props.getOrDefault("super.users", "").split(";")) {
            if (!p.isBlank()) {
                superUsers.add(KafkaPrincipal.parse(p.strip()).toString());
            }
        }
        String allow = props.getOrDefault("allow.everyone.if.no.acl.found", "false").strip();
        if (!allow.equalsIgnoreCase("true") && !allow.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("allow.everyone.if.no.acl.found: expected true or false, got '" + allow + "'");
        }
        Map<String, TlsConfig> tls = new HashMap<>();
        for (BrokerListener l : listeners) {
            if (l.protocol().tls) {
                tls.put(l.name(), tls(props, l.name()));
            }
        }
        return new SecuritySettings(mechanisms, plain, reauth, !authorizerClass.isEmpty(), superUsers,
                Boolean.parseBoolean(allow), tls);
    }

    /** The TLS settings of listener {@code name}; one clear line when its key store is missing or unusable. */
    private static TlsConfig tls(Map<String, String> props, String name) {
        String prefix = "listener.name." + name.toLowerCase(Locale.ROOT) + ".";
        java.util.function.Function<String, String> get = key -> first(props, prefix + key, key);
        String keystore = get.apply("ssl.keystore.location");
        if (keystore == null) {
            throw new IllegalArgumentException("listener " + name + " uses TLS: set ssl.keystore.location (PKCS12, JKS or PEM)");
        }
        String type = get.apply("ssl.keystore.type");
        // PEM keys are protected by ssl.key.password; PKCS12/JKS stores by ssl.keystore.password
        String keyPassword = "PEM".equalsIgnoreCase(type) ? get.apply("ssl.key.password") : get.apply("ssl.keystore.password");
        String truststore = get.apply("ssl.truststore.location");
        javax.net.ssl.SSLContext context = TlsFiles.context(java.nio.file.Path.of(keystore), type, keyPassword,
                truststore == null ? null : java.nio.file.Path.of(truststore), get.apply("ssl.truststore.type"),
                get.apply("ssl.truststore.password"));
        String clientAuth = get.apply("ssl.client.auth");
        String protocols = get.apply("ssl.enabled.protocols");
        return new TlsConfig(context, clientAuth == null ? "none" : clientAuth.strip().toLowerCase(Locale.ROOT),
                protocols == null ? List.of("TLSv1.3", "TLSv1.2") : List.of(protocols.split("\\s*,\\s*")));
    }

    /** These settings under Kafka's names, for DescribeConfigs (never a JAAS config or a password). */
    Map<String, String> describe() {
        return Map.of("sasl.enabled.mechanisms", String.join(",", mechanisms),
                "connections.max.reauth.ms", Long.toString(reauthMs),
                "authorizer.class.name", authorizer ? "org.apache.kafka.metadata.authorizer.StandardAuthorizer" : "",
                "super.users", String.join(";", superUsers),
                "allow.everyone.if.no.acl.found", Boolean.toString(allowIfNoAcl));
    }

    /** The router's view of {@code listener} advertising {@code host:port}. */
    Listener listener(BrokerListener listener, String host, int port) {
        return new Listener(listener.name(), listener.protocol(), host, port,
                listener.protocol().sasl ? mechanisms : List.of(),
                plainUsers.getOrDefault(listener.name(), Map.of()), reauthMs);
    }

    private static String first(Map<String, String> props, String... keys) {
        for (String k : keys) {
            String v = props.get(k);
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    static long longValue(Map<String, String> props, String key, long defaultValue) {
        String v = props.get(key);
        if (v == null || v.isBlank()) {
            return defaultValue;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": expected a number >= 0, got '" + v.strip() + "'");
        }
    }
}
