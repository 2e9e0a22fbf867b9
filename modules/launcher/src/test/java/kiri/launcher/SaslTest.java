package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsRequest;
import kiri.protocol.message.MetadataRequest;
import kiri.protocol.message.SaslAuthenticateRequest;
import kiri.protocol.message.SaslAuthenticateResponse;
import kiri.protocol.message.SaslHandshakeRequest;
import kiri.protocol.message.SaslHandshakeResponse;
import kiri.router.security.ScramMechanism;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SASL on a SASL_PLAINTEXT listener next to a PLAINTEXT one, with unmodified kafka-clients: PLAIN users from the
 * listener's JAAS line, SCRAM-SHA-256/512 credentials made with Admin.alterUserScramCredentials, every way to
 * fail authentication answered with Kafka's error, KIP-368 re-authentication.
 */
class SaslTest {
    private static Broker broker;
    private static String plaintext;
    private static String sasl;
    private static int saslPort;

    @BeforeAll
    static void start() throws Exception {
        broker = SaslBroker.start("memory://", Map.of("connections.max.reauth.ms", "2000"));
        plaintext = "127.0.0.1:" + broker.localAddress("PLAINTEXT").getPort();
        saslPort = broker.localAddress("SASL_PLAINTEXT").getPort();
        sasl = "127.0.0.1:" + saslPort;
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, plaintext))) {
            admin.alterUserScramCredentials(List.of(
                    new UserScramCredentialUpsertion("bob", new ScramCredentialInfo(
                            org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 4096), "bob-secret"),
                    new UserScramCredentialUpsertion("carol", new ScramCredentialInfo(
                            org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_256, 8192), "carol-secret")))
                    .all().get();
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    static Map<String, Object> client(String mechanism, String user, String password) {
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        Map<String, Object> c = new HashMap<>();
        c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, sasl);
        c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        c.put("sasl.mechanism", mechanism);
        c.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + password + "\";");
        return c;
    }

    @Test
    void plainUserProducesConsumesInAGroupAndAdministers() throws Exception {
        roundTrip(client("PLAIN", "alice", "alice-secret"), "plain-topic", "plain-group");
    }

    @Test
    void scramSha512UserProducesConsumesInAGroupAndAdministers() throws Exception {
        roundTrip(client("SCRAM-SHA-512", "bob", "bob-secret"), "scram-topic", "scram-group");
    }

    @Test
    void scramSha256UserProduces() throws Exception {
        Map<String, Object> c = client("SCRAM-SHA-256", "carol", "carol-secret");
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(c)) {
            assertEquals(0, producer.send(new ProducerRecord<>("scram256", "k", "v")).get().offset());
        }
    }

    private static void roundTrip(Map<String, Object> config, String topic, String group) throws Exception {
        try (Admin admin = Admin.create(config)) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            assertTrue(admin.listTopics().names().get().contains(topic));
            var nodes = admin.describeCluster().nodes().get();
            assertEquals(saslPort, nodes.iterator().next().port(), "the SASL listener advertises its own port");
        }
        Map<String, Object> p = new HashMap<>(config);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < 20; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
            }
        }
        Map<String, Object> c = new HashMap<>(config);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < 20 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            consumer.commitSync();
        }
        assertEquals(20, values.size(), values.toString());
    }

    @Test
    void wrongPasswordUnknownUserAndUnknownMechanismAreRefusedWithKafkasErrors() throws Exception {
        for (Map<String, Object> bad : List.of(client("PLAIN", "alice", "wrong"), client("PLAIN", "mallory", "x"),
                client("SCRAM-SHA-512", "bob", "wrong"), client("SCRAM-SHA-512", "mallory", "x"),
                client("SCRAM-SHA-256", "bob", "bob-secret"))) { // bob has no SHA-256 credential
            try (Admin admin = Admin.create(bad)) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> admin.listTopics().names().get());
                assertInstanceOf(SaslAuthenticationException.class, e.getCause(), bad.get("sasl.jaas.config").toString());
            }
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            var answer = (SaslHandshakeResponse) raw.call(ApiKey.SASL_HANDSHAKE, (short) 1,
                    new SaslHandshakeRequest().setMechanism("GSSAPI"));
            assertEquals(ErrorCode.UNSUPPORTED_SASL_MECHANISM.code(), answer.errorCode());
            assertEquals(List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"), answer.mechanisms());
            assertNull(raw.call(ApiKey.API_VERSIONS, (short) 3, versionsRequest()), "closed after the refusal");
        }
        assertTrue(broker.routers().get(1).sessions().failedAuthentications() >= 5, "failures are counted");
        roundTrip(client("PLAIN", "admin", "admin-secret"), "after-failures", "after-failures"); // still serving others
    }

    @Test
    void requestsBeforeAuthenticationCloseTheConnection() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            assertNotNull(raw.call(ApiKey.API_VERSIONS, (short) 3, versionsRequest()), "ApiVersions is answered");
            assertNull(raw.call(ApiKey.METADATA, (short) 12, new MetadataRequest().setTopics(null)));
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            assertNull(raw.call(ApiKey.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequest()
                    .setAuthBytes(MemorySegment.ofArray(new byte[] {0, 'a', 0, 'b'}))) instanceof SaslAuthenticateResponse r
                    && r.errorCode() == 0 ? "admitted" : null, "SaslAuthenticate before SaslHandshake is refused");
        }
    }

    @Test
    void handshakeV0TakesBareTokens() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            var hs = (SaslHandshakeResponse) raw.call(ApiKey.SASL_HANDSHAKE, (short) 0,
                    new SaslHandshakeRequest().setMechanism("PLAIN"));
            assertEquals(0, hs.errorCode());
            assertEquals(0, raw.rawToken("\0alice\0alice-secret".getBytes(StandardCharsets.UTF_8)).length);
            assertNotNull(raw.call(ApiKey.METADATA, (short) 12, new MetadataRequest().setTopics(null)));
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            raw.call(ApiKey.SASL_HANDSHAKE, (short) 0, new SaslHandshakeRequest().setMechanism("PLAIN"));
            assertNull(raw.rawToken("\0alice\0wrong".getBytes(StandardCharsets.UTF_8)), "a bad token closes");
        }
    }

    @Test
    void aForgedScramProofIsNeverAdmitted() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            ScramStart start = scramStart(raw, "bob");
            byte[] forged = new byte[64];
            var answer = authenticate(raw, start.finalWithoutProof() + ",p=" + Base64.getEncoder().encodeToString(forged));
            assertEquals(ErrorCode.SASL_AUTHENTICATION_FAILED.code(), answer.errorCode());
            // whatever it does next: a retry of the last step, a request, a new handshake: the connection is closed
            assertNull(raw.call(ApiKey.METADATA, (short) 12, new MetadataRequest().setTopics(null)));
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            ScramStart start = scramStart(raw, "bob");
            authenticate(raw, start.finalWithoutProof() + ",p=" + Base64.getEncoder().encodeToString(new byte[64]));
            assertNull(raw.call(ApiKey.SASL_HANDSHAKE, (short) 1, new SaslHandshakeRequest().setMechanism("SCRAM-SHA-512")));
        }
    }

    @Test
    void aFinalMessageRepeatingTheClientNonceIsRefusedAsKafka41RefusesIt() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            ScramStart start = scramStart(raw, "bob");
            // librdkafka before 2.7 sends r=<client nonce><client nonce + server nonce>, with a proof over that message
            String finalWithoutProof = "c=biws,r=" + start.clientNonce() + start.nonce();
            var answer = authenticate(raw, finalWithoutProof + ",p=" + proof(start, finalWithoutProof, "bob-secret"));
            assertEquals(ErrorCode.SASL_AUTHENTICATION_FAILED.code(), answer.errorCode());
            assertNull(raw.call(ApiKey.METADATA, (short) 12, new MetadataRequest().setTopics(null)));
        }
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) { // the same exchange done right succeeds
            ScramStart start = scramStart(raw, "bob");
            var answer = authenticate(raw, start.finalWithoutProof() + ",p=" + proof(start, start.finalWithoutProof(), "bob-secret"));
            assertEquals(ErrorCode.NONE.code(), answer.errorCode(), answer.errorMessage());
            assertEquals(2000, answer.sessionLifetimeMs(), "connections.max.reauth.ms is the session lifetime");
            assertNotNull(raw.call(ApiKey.METADATA, (short) 12, new MetadataRequest().setTopics(null)));
        }
    }

    @Test
    void anExpiredSessionIsClosedAndClientsReauthenticate() throws Exception {
        try (RawKafkaConnection raw = new RawKafkaConnection(saslPort)) {
            ScramStart start = scramStart(raw, "bob");
            assertEquals(0, authenticate(raw, start.finalWithoutProof() + ",p="
                    + proof(start, start.finalWithoutProof(), "bob-secret")).errorCode());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            ApiMessage answer;
            do {
                answer = raw.call(ApiKey.METADATA, (short) 12, new MetadataRequest().setTopics(null));
            } while (answer != null && System.nanoTime() < deadline);
            assertNull(answer, "a request after the session lifetime closes the connection");
        }
        // the Java client re-authenticates on its connection before the lifetime ends: keep producing past it
        Map<String, Object> p = client("SCRAM-SHA-512", "bob", "bob-secret");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        long before = broker.routers().get(1).sessions().reauthentications();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int sent = 0;
            while (broker.routers().get(1).sessions().reauthentications() < before + 2 && System.nanoTime() < deadline) {
                producer.send(new ProducerRecord<>("reauth", "k", "v" + sent++)).get();
                Thread.sleep(100);
            }
            assertTrue(broker.routers().get(1).sessions().reauthentications() >= before + 2,
                    "the producer re-authenticated on its live connections");
        }
    }

    @Test
    void scramCredentialsAreDescribedAndDeletedThroughAdmin() throws Exception {
        try (Admin admin = Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, plaintext))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("dave", new ScramCredentialInfo(
                    org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 4096), "d"))).all().get();
            Map<String, UserScramCredentialsDescription> all = admin.describeUserScramCredentials().all().get();
            assertTrue(all.keySet().containsAll(List.of("bob", "carol", "dave")), all.toString());
            assertEquals(8192, all.get("carol").credentialInfos().getFirst().iterations());
            List<UserScramCredentialAlteration> delete = List.of(new UserScramCredentialDeletion("dave",
                    org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512));
            admin.alterUserScramCredentials(delete).all().get();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.describeUserScramCredentials(List.of("dave")).description("dave").get());
            assertInstanceOf(ResourceNotFoundException.class, e.getCause());
            e = assertThrows(ExecutionException.class, () -> admin.alterUserScramCredentials(delete).all().get());
            assertInstanceOf(ResourceNotFoundException.class, e.getCause());
            e = assertThrows(ExecutionException.class, () -> admin.alterUserScramCredentials(List.of(
                    new UserScramCredentialUpsertion("eve", new ScramCredentialInfo(
                            org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 100), "e"))).all().get());
            assertInstanceOf(org.apache.kafka.common.errors.UnacceptableCredentialException.class, e.getCause());
        }
    }

    // ---- a hand-driven SCRAM-SHA-512 client ----

    private record ScramStart(String clientFirstBare, String serverFirst, String clientNonce, String nonce,
            byte[] salt, int iterations) {
        String finalWithoutProof() {
            return "c=biws,r=" + nonce;
        }
    }

    private static ScramStart scramStart(RawKafkaConnection raw, String user) throws Exception {
        var hs = (SaslHandshakeResponse) raw.call(ApiKey.SASL_HANDSHAKE, (short) 1,
                new SaslHandshakeRequest().setMechanism("SCRAM-SHA-512"));
        assertEquals(0, hs.errorCode());
        String clientNonce = "fyko+d2lbbFgONRv9qkxdawL";
        String bare = "n=" + user + ",r=" + clientNonce;
        var first = authenticate(raw, "n,," + bare);
        assertEquals(0, first.errorCode(), first.errorMessage());
        String serverFirst = new String(first.authBytes().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        Map<String, String> attrs = new HashMap<>();
        for (String kv : serverFirst.split(",")) {
            attrs.put(kv.substring(0, 1), kv.substring(2));
        }
        assertTrue(attrs.get("r").startsWith(clientNonce), serverFirst);
        return new ScramStart(bare, serverFirst, clientNonce, attrs.get("r"), Base64.getDecoder().decode(attrs.get("s")),
                Integer.parseInt(attrs.get("i")));
    }

    private static String proof(ScramStart start, String finalWithoutProof, String password) {
        ScramMechanism m = ScramMechanism.SCRAM_SHA_512;
        byte[] salted = m.hi(password.getBytes(StandardCharsets.UTF_8), start.salt(), start.iterations());
        byte[] clientKey = m.hmac(salted, "Client Key".getBytes(StandardCharsets.UTF_8));
        byte[] authMessage = (start.clientFirstBare() + "," + start.serverFirst() + "," + finalWithoutProof)
                .getBytes(StandardCharsets.UTF_8);
        byte[] signature = m.hmac(m.hash(clientKey), authMessage);
        byte[] proof = clientKey.clone();
        for (int i = 0; i < proof.length; i++) {
            proof[i] ^= signature[i];
        }
        return Base64.getEncoder().encodeToString(proof);
    }

    private static SaslAuthenticateResponse authenticate(RawKafkaConnection raw, String token) throws Exception {
        return (SaslAuthenticateResponse) raw.call(ApiKey.SASL_AUTHENTICATE, (short) 2, new SaslAuthenticateRequest()
                .setAuthBytes(MemorySegment.ofArray(token.getBytes(StandardCharsets.UTF_8))));
    }

    private static ApiVersionsRequest versionsRequest() {
        return new ApiVersionsRequest().setClientSoftwareName("raw").setClientSoftwareVersion("1");
    }
}
