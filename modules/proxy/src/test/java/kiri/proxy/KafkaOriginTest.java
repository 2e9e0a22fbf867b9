package kiri.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka clients through the proxy to a real Apache Kafka 4.1.1 broker: KRaft combined mode on
 * loopback, formatted with its StorageTool and run in its own JVM from the test classpath (so a
 * crash or {@code System.exit} in Kafka cannot take the test JVM down, and cleanup is a kill).
 * Startup waits are bounded; the process and its temp dir are removed afterwards.
 */
class KafkaOriginTest {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private static Path dir;
    private static Process kafka;
    private static int kafkaPort;
    private static Proxy proxy;
    private static String bootstrap;

    @BeforeAll
    static void startKafkaAndProxy() throws Exception {
        dir = Files.createTempDirectory("kiri-kafka-origin");
        kafkaPort = freePort();
        int controllerPort = freePort();
        Path props = dir.resolve("server.properties");
        Files.writeString(props, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + kafkaPort + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + kafkaPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                "num.partitions=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "") + "\n");
        Files.writeString(dir.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level=WARN",
                "rootLogger.appenderRef.file.ref=file",
                "appender.file.type=File",
                "appender.file.name=file",
                "appender.file.fileName=" + dir.resolve("kafka.log"),
                "appender.file.layout.type=PatternLayout",
                "appender.file.layout.pattern=%d %p %c: %m%n",
                ""));
        String clusterId = "kiri-proxy-" + UUID.randomUUID().toString().substring(0, 8);
        Process format = java("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props.toString())
                .redirectOutput(dir.resolve("format.out").toFile()).start();
        if (!format.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            format.destroyForcibly();
            throw new AssertionError("kafka-storage format did not finish");
        }
        assertEquals(0, format.exitValue(), () -> read(dir.resolve("format.out")));

        kafka = java("kafka.Kafka", props.toString()).redirectOutput(dir.resolve("kafka.out").toFile()).start();
        Process started = kafka;
        // if the test JVM dies without running @AfterAll (e.g. surefire's fork timeout), take Kafka along
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly, "kill-test-kafka"));
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!accepts(kafkaPort)) {
            if (!kafka.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("Apache Kafka did not start: " + read(dir.resolve("kafka.out"))
                        + read(dir.resolve("kafka.log")));
            }
            Thread.sleep(200);
        }
        proxy = Proxy.start(ProxyConfig.of(new InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0,
                List.of(InetSocketAddress.createUnresolved("127.0.0.1", kafkaPort))));
        bootstrap = "127.0.0.1:" + proxy.localAddress().getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (kafka != null) {
            kafka.destroy();
            if (!kafka.waitFor(20, TimeUnit.SECONDS)) {
                kafka.destroyForcibly();
                kafka.waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /** The JVM running this test, with the test's jars: Kafka's broker and tools are among them. */
    private static ProcessBuilder java(String mainClass, String... args) {
        List<String> jars = new ArrayList<>();
        for (String property : new String[] {"java.class.path", "jdk.module.path"}) {
            String value = System.getProperty(property);
            if (value != null) {
                for (String entry : value.split(File.pathSeparator)) {
                    if (entry.endsWith(".jar")) {
                        jars.add(entry);
                    }
                }
            }
        }
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(javaBin, "-Xmx512m", "-XX:+UseSerialGC",
                "-Dlog4j2.configurationFile=" + dir.resolve("log4j2.properties"),
                "-cp", String.join(File.pathSeparator, jars), mainClass));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000));
    }

    @Test
    void adminSeesKafkaBrokerAtTheProxy() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("kafka-admin", 2, (short) 1))).all().get();
            assertTrue(admin.listTopics().names().get().contains("kafka-admin"));
            TopicDescription d = admin.describeTopics(List.of("kafka-admin")).allTopicNames().get().get("kafka-admin");
            assertEquals(2, d.partitions().size());
            Node leader = d.partitions().get(0).leader();
            assertEquals(1, leader.id());
            int proxyPort = proxy.brokerListeners().get(1).getPort();
            assertEquals(proxyPort, leader.port(), "the leader is advertised at the proxy");
            assertNotEquals(kafkaPort, leader.port());
            Node node = admin.describeCluster().nodes().get().iterator().next();
            assertEquals(proxyPort, node.port());
        }
    }

    @Test
    void produceAndConsumeInAGroupThroughTheProxy() throws Exception {
        String topic = "kafka-roundtrip";
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
        }
        int n = 2_000;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i));
            }
            producer.flush();
        }
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "proxied-group",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (seen.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    assertEquals("v" + r.key().substring(1), r.value());
                    seen.add(r.value());
                }
            }
            assertEquals(n, seen.size(), "every record came back through the proxy");
            consumer.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(
                    Set.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1)));
            long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
            assertEquals(n, total, "the group coordinator (found through the proxy) has the offsets");
        }
        String coordinatorPort = String.valueOf(proxy.brokerListeners().get(1).getPort());
        assertTrue(proxy.brokerListeners().size() == 1, proxy.brokerListeners().toString());
        assertTrue(!coordinatorPort.equals(String.valueOf(kafkaPort)));
    }

    @Test
    void kcatMetadataThroughTheProxyNamesOnlyTheProxy() throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("kcat", "-b", bootstrap, "-L").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("kcat did not finish");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("broker 1 at 127.0.0.1:" + proxy.brokerListeners().get(1).getPort()), out);
        assertTrue(!out.contains(":" + kafkaPort), "origin address leaked: " + out);
    }
}
