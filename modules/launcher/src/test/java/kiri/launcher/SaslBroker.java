package kiri.launcher;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * A test broker with a PLAINTEXT and a SASL_PLAINTEXT listener on ephemeral loopback ports: PLAIN users alice
 * ({@code alice-secret}) and admin ({@code admin-secret}); SCRAM users made with {@link #addScramUser}.
 */
final class SaslBroker {
    static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\";";

    private SaslBroker() {
    }

    /** {@code extra} adds broker properties (Kafka's names), e.g. an authorizer. */
    static Broker start(String storageUrl, Map<String, String> extra) throws IOException {
        List<BrokerListener> listeners = BrokerListener.parse("PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                null, null);
        Map<String, String> props = new java.util.HashMap<>(extra);
        props.putIfAbsent("listener.name.sasl_plaintext.plain.sasl.jaas.config", JAAS);
        return Broker.start(new Broker.Settings(listeners, storageUrl, null, 0, true, 1, 0,
                SecuritySettings.from(props, listeners)));
    }

    static String bootstrap(Broker broker, String listener) {
        return "127.0.0.1:" + broker.localAddress(listener).getPort();
    }

    /** Adds a SCRAM credential through Admin on {@code config}'s connection. */
    static void addScramUser(Map<String, Object> config, String user, ScramMechanism mechanism, String password)
            throws Exception {
        try (Admin admin = Admin.create(config)) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(mechanism, 4096), password))).all().get();
        }
    }

    static Map<String, Object> plaintext(Broker broker) {
        return Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap(broker, "PLAINTEXT"));
    }
}
