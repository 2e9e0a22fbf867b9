package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kafkajs (Node.js) as an external process: {@code src/test/kafkajs/roundtrip.js} creates topics,
 * produces with an idempotent producer (plain and gzip), consumes in a group that commits, and runs
 * an aborted and a committed transaction; then kafka-clients reads what kafkajs wrote. Needs node and
 * {@code npm ci} in that folder (.ci/run does both).
 */
class KafkajsTest {
    private static final Path SCRIPTS = Path.of("src/test/kafkajs");

    @ParameterizedTest
    @ValueSource(strings = {"memory://", "file:"})
    void kafkajsRoundTripsAndKafkaClientsReadWhatItWrote(String storage, @TempDir Path dir) throws Exception {
        assertTrue(Files.isDirectory(SCRIPTS.resolve("node_modules/kafkajs")),
                "kafkajs is needed for this test: npm ci --prefix modules/launcher/src/test/kafkajs (.ci/run does)");
        try (Broker broker = InProcessBroker.startForClients(storage, dir)) {
            String bootstrap = InProcessBroker.bootstrap(broker);
            String out = NodeScript.run(SCRIPTS, 120, "roundtrip.js", bootstrap);
            assertTrue(out.contains("kafkajs OK: 1000 messages"), out);
            assertKafkaClientsReadKafkajsRecords(bootstrap);
        }
    }

    /** Every record kafkajs wrote, with its header, in the partition Java's murmur2 partitioner picks for its key. */
    private static void assertKafkaClientsReadKafkajsRecords(String bootstrap) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Map<String, ConsumerRecord<String, String>> byValue = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = List.of(new TopicPartition("js-topic", 0), new TopicPartition("js-topic", 1),
                    new TopicPartition("js-topic", 2));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (byValue.size() < 1000 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    byValue.put(r.value(), r);
                }
            }
        }
        assertEquals(1000, byValue.size());
        for (int i = 0; i < 1000; i++) {
            ConsumerRecord<String, String> r = byValue.get("value-" + i);
            String key = "key-" + (i % 17);
            assertEquals(key, r.key());
            assertEquals("header-" + i, new String(r.headers().lastHeader("h").value(), StandardCharsets.UTF_8));
            assertEquals(Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 3, r.partition(),
                    "kafkajs's default partitioner agrees with Java's for " + key);
        }
    }
}
