package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS listeners on Kiri's NIO transport, with certificates keytool makes: kafka-clients over SSL (PEM key store,
 * durable storage, so fetches read files through TLS) and over SASL_SSL with SCRAM-SHA-512; an mTLS listener whose
 * principal is the client certificate's subject, which ACLs name; a failed handshake closes that connection only;
 * kcat (librdkafka 2.0.2) over SASL_SSL with PLAIN.
 */
class TlsTest {
    @TempDir
    static Path dir;
    private static TestCertificates certs;
    private static Broker broker;

    @BeforeAll
    static void start() throws Exception {
        certs = TestCertificates.make(dir);
        List<BrokerListener> listeners = BrokerListener.parse("PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,"
                + "SASL_SSL://127.0.0.1:0,MTLS://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0", null, "MTLS:SSL");
        Map<String, String> props = new HashMap<>();
        props.put("ssl.keystore.location", certs.serverKeys().toString());
        props.put("ssl.keystore.password", TestCertificates.PASSWORD);
        props.put("listener.name.ssl.ssl.keystore.type", "PEM");
        props.put("listener.name.ssl.ssl.keystore.location", certs.serverPem().toString());
        props.put("listener.name.mtls.ssl.client.auth", "required");
        props.put("listener.name.mtls.ssl.truststore.location", certs.serverTrust().toString());
        props.put("listener.name.mtls.ssl.truststore.password", TestCertificates.PASSWORD);
        props.put("sasl.jaas.config", SaslBroker.JAAS);
        props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        props.put("super.users", "User:ANONYMOUS;User:bob;User:alice");
        broker = Broker.start(new Broker.Settings(listeners, "file:" + dir.resolve("data"), null, 0, true, 1, 0,
                SecuritySettings.from(props, listeners)));
        try (Admin admin = Admin.create(SaslBroker.plaintext(broker))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("bob",
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "bob-secret"))).all().get();
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static Map<String, Object> tls(String listener, String protocol) {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", "127.0.0.1:" + broker.localAddress(listener).getPort());
        c.put("security.protocol", protocol);
        c.put("ssl.truststore.location", certs.clientTrust().toString());
        c.put("ssl.truststore.password", TestCertificates.PASSWORD);
        c.put("ssl.truststore.type", "PKCS12");
        return c;
    }

    private static void roundTrip(Map<String, Object> config, String topic, int records, int size) throws Exception {
        try (Admin admin = Admin.create(config)) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        Map<String, Object> p = new HashMap<>(config);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < records; i++) {
                byte[] value = new byte[size];
                value[0] = (byte) i;
                producer.send(new ProducerRecord<>(topic, value));
            }
            producer.flush();
        }
        Map<String, Object> c = new HashMap<>(config);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, topic + "-group");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        long bytes = 0;
        int n = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (n < records && System.nanoTime() < deadline) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    n++;
                    bytes += r.value().length;
                }
            }
            consumer.commitSync();
        }
        assertEquals(records, n);
        assertEquals((long) records * size, bytes);
    }

    @Test
    void sslWithAPemKeyServesProducersConsumerGroupsAndAdminAndFetchesFilesThroughTls() throws Exception {
        roundTrip(tls("SSL", "SSL"), "tls-topic", 3000, 1000); // ~3 MB: many fetches of file regions, copied through TLS
    }

    @Test
    void saslSslWithScramSha512() throws Exception {
        Map<String, Object> c = tls("SASL_SSL", "SASL_SSL");
        c.put("sasl.mechanism", "SCRAM-SHA-512");
        c.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bob\" password=\"bob-secret\";");
        roundTrip(c, "sasl-ssl-topic", 200, 100);
    }

    @Test
    void anMtlsClientIsItsCertificateSubject() throws Exception {
        Map<String, Object> c = tls("MTLS", "SSL");
        c.put("ssl.keystore.location", certs.clientKeys().toString());
        c.put("ssl.keystore.password", TestCertificates.PASSWORD);
        c.put("ssl.keystore.type", "PKCS12");
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        try (Admin admin = Admin.create(SaslBroker.plaintext(broker))) { // ANONYMOUS is a super user here
            admin.createTopics(List.of(new NewTopic("mtls", 1, (short) 1))).all().get();
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("mtls", new byte[1])).get());
            assertInstanceOf(TopicAuthorizationException.class, e.getCause(), "User:CN=client,O=Kiri has no ACL yet");
        }
        try (Admin admin = Admin.create(SaslBroker.plaintext(broker))) {
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "mtls", PatternType.LITERAL),
                    new AccessControlEntry("User:CN=client,O=Kiri", "*", AclOperation.WRITE, AclPermissionType.ALLOW))))
                    .all().get();
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c)) {
            assertEquals(0, producer.send(new ProducerRecord<>("mtls", new byte[1])).get().offset());
        }
    }

    @Test
    void aBadHandshakeClosesThatConnectionOnly() throws Exception {
        int port = broker.localAddress("SSL").getPort();
        try (Socket s = new Socket("127.0.0.1", port)) { // a plaintext Kafka request on the TLS port
            s.setSoTimeout(30_000);
            s.getOutputStream().write(new byte[] {0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0});
            assertEquals(-1, readUntilEnd(s), "closed");
        }
        Map<String, Object> noCert = tls("MTLS", "SSL"); // mTLS listener, client without a certificate
        noCert.put("request.timeout.ms", 10_000);
        noCert.put("default.api.timeout.ms", 20_000);
        try (Admin admin = Admin.create(noCert)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.listTopics().names().get());
            assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.SslAuthenticationException
                    || e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException, e.getCause().toString());
        }
        roundTrip(tls("SSL", "SSL"), "after-bad-handshakes", 10, 10);
    }

    private static int readUntilEnd(Socket s) throws IOException {
        int b;
        while ((b = s.getInputStream().read()) >= 0) {
            // TLS alert bytes, if any
        }
        return b;
    }

    @Test
    void theProxyServesTlsAndPassesSaslThrough() throws Exception {
        kiri.transport.TlsConfig proxyTls = new kiri.transport.TlsConfig(kiri.transport.TlsFiles.context(certs.serverKeys(),
                "PKCS12", TestCertificates.PASSWORD, null, null, null), "none", List.of("TLSv1.3", "TLSv1.2"));
        for (String origin : List.of("PLAINTEXT", "SASL_PLAINTEXT")) {
            var originAddress = java.net.InetSocketAddress.createUnresolved("127.0.0.1", broker.localAddress(origin).getPort());
            try (kiri.proxy.Proxy proxy = kiri.proxy.Proxy.start(kiri.proxy.ProxyConfig.of(
                    new java.net.InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0, List.of(originAddress)).withTls(proxyTls))) {
                Map<String, Object> c = new HashMap<>(tls("SSL", origin.equals("PLAINTEXT") ? "SSL" : "SASL_SSL"));
                c.put("bootstrap.servers", "127.0.0.1:" + proxy.localAddress().getPort());
                if (origin.equals("SASL_PLAINTEXT")) {
                    c.put("sasl.mechanism", "SCRAM-SHA-512");
                    c.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                            + "username=\"bob\" password=\"bob-secret\";");
                }
                roundTrip(c, "via-proxy-" + origin.toLowerCase(java.util.Locale.ROOT), 100, 100);
            }
        }
    }

    @Test
    void theProxySpeaksTlsToTheOrigin() throws Exception {
        var toOrigin = new kiri.proxy.OriginTls(kiri.transport.TlsFiles.context(null, null, null, certs.clientTrust(),
                "PKCS12", TestCertificates.PASSWORD), List.of("TLSv1.3", "TLSv1.2"), "https");
        kiri.transport.TlsConfig proxyTls = new kiri.transport.TlsConfig(kiri.transport.TlsFiles.context(certs.serverKeys(),
                "PKCS12", TestCertificates.PASSWORD, null, null, null), "none", List.of("TLSv1.3", "TLSv1.2"));
        // plaintext clients, TLS to the origin's SSL listener (PEM key; the certificate names 127.0.0.1)
        var ssl = java.net.InetSocketAddress.createUnresolved("127.0.0.1", broker.localAddress("SSL").getPort());
        try (kiri.proxy.Proxy proxy = kiri.proxy.Proxy.start(kiri.proxy.ProxyConfig.of(
                new java.net.InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0, List.of(ssl)).withOriginTls(toOrigin))) {
            roundTrip(Map.of("bootstrap.servers", "127.0.0.1:" + proxy.localAddress().getPort()), "proxy-to-ssl", 2000, 1000);
        }
        // TLS on both sides, SCRAM passing through to the origin's SASL_SSL listener
        var saslSsl = java.net.InetSocketAddress.createUnresolved("127.0.0.1", broker.localAddress("SASL_SSL").getPort());
        try (kiri.proxy.Proxy proxy = kiri.proxy.Proxy.start(kiri.proxy.ProxyConfig.of(
                new java.net.InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0, List.of(saslSsl))
                .withTls(proxyTls).withOriginTls(toOrigin))) {
            Map<String, Object> c = new HashMap<>(tls("SSL", "SASL_SSL"));
            c.put("bootstrap.servers", "127.0.0.1:" + proxy.localAddress().getPort());
            c.put("sasl.mechanism", "SCRAM-SHA-512");
            c.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    + "username=\"bob\" password=\"bob-secret\";");
            roundTrip(c, "tls-proxy-to-sasl-ssl", 100, 100);
        }
        // an origin certificate the proxy does not trust: clients get errors, nothing hangs, the broker serves on
        var untrusting = new kiri.proxy.OriginTls(kiri.transport.TlsFiles.context(null, null, null, null, null, null),
                List.of("TLSv1.3"), "https");
        try (kiri.proxy.Proxy proxy = kiri.proxy.Proxy.start(kiri.proxy.ProxyConfig.of(
                new java.net.InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0, List.of(ssl)).withOriginTls(untrusting));
                Admin admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + proxy.localAddress().getPort(),
                        "default.api.timeout.ms", 5000, "request.timeout.ms", 3000))) {
            assertThrows(ExecutionException.class, () -> admin.listTopics().names().get());
        }
        try (Admin admin = Admin.create(tls("SSL", "SSL"))) {
            assertTrue(admin.listTopics().names().get().contains("proxy-to-ssl"));
        }
    }

    @Test
    void kcatOverSaslSslWithPlain() throws Exception {
        String bootstrap = "127.0.0.1:" + broker.localAddress("SASL_SSL").getPort();
        List<String> common = List.of("kcat", "-b", bootstrap, "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=PLAIN",
                "-X", "sasl.username=alice", "-X", "sasl.password=alice-secret", "-X", "ssl.ca.location=" + certs.serverCertPem(),
                "-m", "20");
        List<String> produce = new java.util.ArrayList<>(common);
        produce.addAll(List.of("-P", "-t", "kcat-tls"));
        Process p = new ProcessBuilder(produce).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write("one\ntwo\nthree\n".getBytes());
        }
        assertTrue(p.waitFor(90, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), out);
        List<String> consume = new java.util.ArrayList<>(common);
        consume.addAll(List.of("-C", "-t", "kcat-tls", "-o", "beginning", "-e"));
        p = new ProcessBuilder(consume).redirectErrorStream(true).start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS));
        out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("one\ntwo\nthree\n"), out);
    }
}
