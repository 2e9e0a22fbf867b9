package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kiri.proxy.Proxy;
import kiri.proxy.ProxyConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Unmodified Kafka clients and kcat through {@link Proxy} to an in-process Kiri broker on
 * memory:// storage: admin, produce (idempotent, acks=0), list offsets, consume (assigned
 * partitions; Kiri has no group coordinator on this branch yet), origin restarts, and the
 * {@code kiri proxy} command's errors.
 */
class ProxyTest {
    private static Broker broker;
    private static Proxy proxy;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start(new Broker.Settings(new ListenerUrl("127.0.0.1", 0), new ListenerUrl("127.0.0.1", 0),
                "memory://", null, 0, true, 1));
        proxy = Proxy.start(ProxyConfig.of(new InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0,
                List.of(broker.localAddress())));
        bootstrap = "127.0.0.1:" + proxy.localAddress().getPort();
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private static Admin admin(String servers) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000));
    }

    private static int proxyPortOfBroker0() {
        InetSocketAddress a = proxy.brokerListeners().get(0);
        assertTrue(a != null, "the proxy opened a listener for origin broker 0: " + proxy.brokerListeners());
        return a.getPort();
    }

    private static Properties producerProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    private static long endOffset(Admin admin, String topic, int partition) throws Exception {
        TopicPartition tp = new TopicPartition(topic, partition);
        return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset();
    }

    @Test
    void adminThroughProxySeesBrokersAtProxyAddresses() throws Exception {
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic("proxied-topic", 3, (short) 1))).all().get();
            Set<String> names = admin.listTopics().names().get();
            assertTrue(names.contains("proxied-topic"), names.toString());
            TopicDescription d = admin.describeTopics(List.of("proxied-topic")).allTopicNames().get().get("proxied-topic");
            assertEquals(3, d.partitions().size());
            Node leader = d.partitions().get(1).leader();
            assertEquals(0, leader.id());
            assertEquals(proxyPortOfBroker0(), leader.port(), "leaders are advertised at the proxy");
            assertNotEquals(broker.localAddress().getPort(), leader.port());

            Collection<Node> nodes = admin.describeCluster().nodes().get();
            assertEquals(1, nodes.size());
            Node node = nodes.iterator().next();
            assertEquals("127.0.0.1", node.host());
            assertEquals(proxyPortOfBroker0(), node.port(), "DescribeCluster is rewritten too");

            admin.deleteTopics(List.of("proxied-topic")).all().get();
            assertFalse(admin.listTopics().names().get().contains("proxied-topic"));
        }
    }

    @Test
    void idempotentProducerThroughProxyGetsEveryRecordAcknowledged() throws Exception {
        assertEquals(20_000, TestProducers.produceAcked(producerProps(), "proxied-produce", 20_000));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps())) {
            RecordMetadata m = producer.send(new ProducerRecord<>("proxied-produce", "k", new byte[1])).get();
            assertEquals(20_000, m.offset(), "offsets were assigned without gaps");
        }
        try (Admin direct = admin("127.0.0.1:" + broker.localAddress().getPort())) {
            assertEquals(20_001, endOffset(direct, "proxied-produce", 0), "the origin has every record");
        }
    }

    @Test
    void consumerReadsBackWhatWasProducedThroughTheProxy() throws Exception {
        String topic = "proxied-consume";
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        Properties props = producerProps();
        int n = 3_000;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, i % 2, "k" + i, ("value-" + i).getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
        Set<String> seen = new java.util.HashSet<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(Map.of(
                "bootstrap.servers", bootstrap,
                "key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName(),
                "value.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName()))) {
            List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.size() < n && System.nanoTime() < deadline) {
                for (var r : consumer.poll(java.time.Duration.ofMillis(200))) {
                    assertEquals("value-" + r.key().substring(1), r.value());
                    assertEquals(Integer.parseInt(r.key().substring(1)) % 2, r.partition());
                    seen.add(r.value());
                }
            }
        }
        assertEquals(n, seen.size(), "every record came back through the proxy");
    }

    @Test
    void acksZeroProduceGetsNoResponseAndKeepsTheConnectionInStep() throws Exception {
        Properties props = producerProps();
        props.put(ProducerConfig.ACKS_CONFIG, "0");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 2048); // many requests on one connection
        assertEquals(5_000, TestProducers.produceAcked(props, "proxied-acks0", 5_000));
        try (Admin admin = admin(bootstrap)) {
            // acks=0 gives no completion signal: the close above flushed, the origin may still be appending
            long end = 0;
            for (int i = 0; i < 100 && end < 5_000; i++) {
                end = endOffset(admin, "proxied-acks0", 0);
                if (end < 5_000) {
                    Thread.sleep(100);
                }
            }
            assertEquals(5_000, end);
        }
    }

    @Test
    void kcatListsAndProducesThroughProxy() throws Exception {
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic("kcat-proxied", 2, (short) 1))).all().get();
        }
        String meta = kcat("", "-L");
        assertTrue(meta.contains("broker 0 at 127.0.0.1:" + proxyPortOfBroker0()), meta);
        assertTrue(meta.contains("topic \"kcat-proxied\" with 2 partitions"), meta);
        assertFalse(meta.contains(":" + broker.localAddress().getPort() + " "), "origin address leaked: " + meta);

        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            lines.append("line-").append(i).append('\n');
        }
        kcat(lines.toString(), "-P", "-t", "kcat-proxied", "-p", "1");
        try (Admin admin = admin(bootstrap)) {
            assertEquals(500, endOffset(admin, "kcat-proxied", 1));
        }
    }

    @Test
    void originRestartGivesErrorsThenRecovers() throws Exception {
        Broker origin = Broker.start(new Broker.Settings(new ListenerUrl("127.0.0.1", 0),
                new ListenerUrl("127.0.0.1", 0), "memory://", null, 0, true, 1));
        int originPort = origin.localAddress().getPort();
        try (Proxy p = Proxy.start(ProxyConfig.of(new InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0,
                List.of(origin.localAddress())))) {
            String via = "127.0.0.1:" + p.localAddress().getPort();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, via,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000,
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                    AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200))) {
                admin.createTopics(List.of(new NewTopic("restart", 1, (short) 1))).all().get();
                origin.close();
                // the origin is gone: the call fails within its timeout instead of hanging
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> admin.listTopics().names().get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException, e.toString());

                origin = Broker.start(new Broker.Settings(new ListenerUrl("127.0.0.1", originPort),
                        new ListenerUrl("127.0.0.1", 0), "memory://", null, 0, true, 1));
                // the same client recovers through the same proxy once the origin is back
                Set<String> names = null;
                for (int i = 0; i < 20 && names == null; i++) {
                    try {
                        names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException retry) {
                        // metadata still backing off
                    }
                }
                assertTrue(names != null, "listTopics succeeded after the origin came back");
                admin.createTopics(List.of(new NewTopic("after-restart", 1, (short) 1))).all().get();
            }
        } finally {
            origin.close();
        }
    }

    private static String kcat(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", bootstrap));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kcat did not finish");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    // kiri proxy on the command line: user errors are one line and a non-zero exit

    private static String[] runCli(int expectedExit, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(expectedExit, exit, err.toString());
        return new String[] {out.toString(), err.toString()};
    }

    @Test
    void proxyCommandNeedsAnOrigin() {
        String err = runCli(1, "proxy", "--listener", "tcp://127.0.0.1:0")[1];
        assertEquals(1, err.strip().split("\n").length, err);
        assertTrue(err.startsWith("kiri: --origin is required"), err);
    }

    @Test
    void proxyCommandRejectsBadUrlsAndBusyPorts() throws Exception {
        String err = runCli(1, "proxy", "--listener", "tcp://127.0.0.1:0", "--origin", "localhost:9092")[1];
        assertTrue(err.startsWith("kiri: listener 'localhost:9092' must look like tcp://HOST:PORT"), err);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            err = runCli(1, "proxy", "--listener", "tcp://127.0.0.1:" + taken.getLocalPort(),
                    "--origin", "tcp://127.0.0.1:9092")[1];
            assertTrue(err.startsWith("kiri: cannot listen on") && err.contains("Address already in use"), err);
            assertFalse(err.contains("\tat "), "no stack trace");
        }
        err = runCli(1, "proxy", "--listener", "tcp://127.0.0.1:0", "--origin", "tcp://127.0.0.1:9092",
                "--origin-ssl-truststore-location", "/nonexistent/trust.p12")[1];
        assertEquals(1, err.strip().split("\n").length, err);
        assertTrue(err.startsWith("kiri: ") && err.contains("/nonexistent/trust.p12"), err);
        String help = runCli(0, "proxy", "--help")[0];
        for (String flag : new String[] {"--listener", "--advertised-listener", "--origin", "--broker-port-base", "--origin-ssl",
                "--origin-ssl-truststore-location"}) {
            assertTrue(help.contains(flag), flag);
        }
    }
}
