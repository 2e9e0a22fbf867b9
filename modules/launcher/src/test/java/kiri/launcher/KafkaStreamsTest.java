package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka Streams 4.1 runs unmodified against a Kiri broker on {@code file:}: the word count of {@link StreamsChild}
 * (a repartition topic, a state store with a compacted changelog, exactly_once_v2) in two child JVMs, one SIGKILLed
 * while lines are still coming in. Read committed, every word's output counts are exactly 1, 2, ..., n (nothing
 * counted twice or lost across the kill). Then both are gone, the broker's cleaner compacts the store's changelog
 * (it rolls every 100 ms) to fewer records than half its updates, and a fresh instance with an empty state directory
 * restores the store from that compacted changelog: one more line of every word yields n + 1 for each.
 */
class KafkaStreamsTest {
    private static final int LINES = 1_500;
    private static final int WORDS_PER_LINE = 4;
    private static final List<String> VOCABULARY = List.of("alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
            "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void wordCountIsExactlyOnceAcrossAKillAndRestoresFromTheChangelog() throws Exception {
        try (GroupTestBroker b = GroupTestBroker.start("file:" + dir.resolve("data") + "?log.cleaner.backoff.ms=200",
                GroupTestBroker.SHORT_CLASSIC_TIMEOUTS)) {
            b.admin().createTopics(List.of(new NewTopic(StreamsChild.IN, 4, (short) 1),
                    new NewTopic(StreamsChild.OUT, 1, (short) 1))).all().get();
            Map<String, List<Long>> seen = new ConcurrentHashMap<>();
            AtomicBoolean reading = new AtomicBoolean(true);
            Thread reader = Thread.ofPlatform().start(() -> readCommitted(b.bootstrap(), seen, reading));
            Map<String, Long> expected = new TreeMap<>();
            ChildJvm a = instance(b, "a");
            ChildJvm c = null;
            try (ChildJvm bInstance = instance(b, "b"); KafkaProducer<String, String> producer = producer(b.bootstrap())) {
                waitRunning(a, bInstance);
                Random random = new Random(19);
                for (int i = 0; i < LINES; i++) {
                    StringBuilder line = new StringBuilder();
                    for (int w = 0; w < WORDS_PER_LINE; w++) {
                        String word = VOCABULARY.get(random.nextInt(VOCABULARY.size()));
                        expected.merge(word, 1L, Long::sum);
                        line.append(w == 0 ? "" : " ").append(word);
                    }
                    producer.send(new ProducerRecord<>(StreamsChild.IN, "line-" + i, line.toString()));
                    if (i == LINES / 3) {
                        producer.flush();
                        GroupTestBroker.waitFor(() -> total(seen) > 0, "the first counts", Duration.ofSeconds(180));
                        a.kill(); // mid-stream: its tasks' open transactions must be aborted, its work redone once
                    }
                    if (i % 100 == 0) producer.flush();
                }
                producer.flush();
                waitForCounts(seen, expected);
                assertExactlyOnce(seen, expected);

                bInstance.kill();
                long updates = expected.values().stream().mapToLong(Long::longValue).sum();
                GroupTestBroker.waitFor(() -> changelogRecords(b.bootstrap()) < updates / 2,
                        "the changelog compacted (fewer records than half its " + updates + " updates)", Duration.ofSeconds(300));
                c = instance(b, "c"); // a fresh state directory: the store comes back from the changelog
                waitRunning(c);
                for (String word : VOCABULARY) expected.merge(word, 1L, Long::sum);
                producer.send(new ProducerRecord<>(StreamsChild.IN, "last", String.join(" ", VOCABULARY)));
                producer.flush();
                waitForCounts(seen, expected);
                assertExactlyOnce(seen, expected);
            } finally {
                a.kill();
                if (c != null) c.kill();
                reading.set(false);
                reader.join();
            }
        }
    }

    private ChildJvm instance(GroupTestBroker b, String name) throws Exception {
        return ChildJvm.start(StreamsChild.class, dir.resolve("streams-" + name + ".err"), b.bootstrap(),
                dir.resolve("state-" + name).toString());
    }

    private static void waitRunning(ChildJvm... instances) throws InterruptedException {
        for (ChildJvm i : instances) {
            GroupTestBroker.waitFor(() -> i.printed("STATE RUNNING"), "a streams instance running", Duration.ofSeconds(240));
        }
    }

    private static void waitForCounts(Map<String, List<Long>> seen, Map<String, Long> expected) throws InterruptedException {
        GroupTestBroker.waitFor(() -> expected.entrySet().stream().allMatch(e -> {
            List<Long> counts = seen.get(e.getKey());
            return counts != null && !counts.isEmpty() && counts.getLast() >= e.getValue();
        }), "every word counted " + expected, Duration.ofSeconds(300));
    }

    /** Each word's committed counts are 1, 2, ..., its expected count: none skipped, none repeated. */
    private static void assertExactlyOnce(Map<String, List<Long>> seen, Map<String, Long> expected) {
        assertEquals(expected.keySet(), new TreeMap<>(seen).keySet(), "the words counted");
        for (var e : expected.entrySet()) {
            List<Long> counts = seen.get(e.getKey());
            List<Long> want = new ArrayList<>();
            for (long n = 1; n <= e.getValue(); n++) want.add(n);
            assertEquals(want, counts, "the committed counts of " + e.getKey());
        }
    }

    /** Records in the store's changelog from its beginning (each count update wrote one before cleaning). */
    private static long changelogRecords(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        long n = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = consumer.partitionsFor(StreamsChild.CHANGELOG).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            long giveUp = System.currentTimeMillis() + 60_000;
            while (tps.stream().anyMatch(tp -> consumer.position(tp) < ends.get(tp)) && System.currentTimeMillis() < giveUp) {
                n += consumer.poll(Duration.ofMillis(200)).count();
            }
        }
        return n;
    }

    private static long total(Map<String, List<Long>> seen) {
        return seen.values().stream().mapToLong(List::size).sum();
    }

    /** Collects every committed output record, per word in offset order, until {@code reading} is cleared. */
    private static void readCommitted(String bootstrap, Map<String, List<Long>> seen, AtomicBoolean reading) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class.getName());
        try (KafkaConsumer<String, Long> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> out = List.of(new TopicPartition(StreamsChild.OUT, 0));
            consumer.assign(out);
            consumer.seekToBeginning(out);
            while (reading.get()) {
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(200))) {
                    seen.computeIfAbsent(r.key(), k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(r.value());
                }
            }
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }
}
