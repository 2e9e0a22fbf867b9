package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compacted topic end to end with kafka-clients against a broker process on {@code file:}: 200,000 records over
 * 2,000 keys (system properties {@code kiri.compaction.records} / {@code kiri.compaction.keys} scale it; the bench
 * runs 1,000,000 over 10,000), with tombstones mid-stream (later revived) and at the end (the key stays deleted).
 * The broker is SIGKILLed while its (rate-limited) cleaner has a cleaned segment half written, restarted, and once
 * it has cleaned, a consumer from the beginning reads exactly the latest value of each live key, at the offset it
 * was acknowledged with, in offset order; the partition's files hold a small fraction of what was produced.
 */
class CompactedTopicTest {
    private static final int RECORDS = Integer.getInteger("kiri.compaction.records", 200_000);
    private static final int KEYS = Integer.getInteger("kiri.compaction.keys", 2_000);
    private static final String TOPIC = "compacted";

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 900, unit = TimeUnit.SECONDS)
    void consumersSeeTheLatestValueOfEachLiveKeyAfterCleaningAndASigkillDuringIt() throws Exception {
        Path data = dir.resolve("data");
        int port = ChildBroker.freePort();
        String bootstrap = "127.0.0.1:" + port;
        // throttled so that a cleaning lasts long enough to be killed in the middle of
        Process broker = ChildBroker.start("file:" + data + "?log.cleaner.backoff.ms=200"
                + "&log.cleaner.io.max.bytes.per.second=4000000", port, dir.resolve("broker-1.err"));
        Map<String, String> latest = new ConcurrentHashMap<>();
        Map<String, Long> latestOffset = new ConcurrentHashMap<>();
        long producedBytes = 0;
        try {
            try (Admin admin = KeyedRecords.admin(bootstrap)) {
                admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1).configs(Map.of("cleanup.policy", "compact",
                        "segment.bytes", "1048576", "segment.ms", "1000", "delete.retention.ms", "0",
                        "min.cleanable.dirty.ratio", "0.01")))).all().get();
            }
            AtomicReference<Exception> failure = new AtomicReference<>();
            try (KafkaProducer<String, String> producer = producer(bootstrap)) {
                for (int i = 0; i < RECORDS + KEYS / 10; i++) {
                    String key;
                    String value;
                    if (i < RECORDS) {
                        key = "key-" + (int) ((i * 7919L) % KEYS);
                        value = i % 97 == 0 ? null : "value-" + i + "-" + "x".repeat(i % 64); // a tombstone, later revived
                    } else {
                        key = "key-" + (i - RECORDS) * 10; // the last word for every tenth key: deleted
                        value = null;
                    }
                    producedBytes += key.length() + (value == null ? 0 : value.length());
                    send(producer, key, value, latest, latestOffset, failure);
                }
                producer.flush();
                // the active segment is never cleaned: once it is older than segment.ms, one more record rolls it,
                // leaving that sentinel alone in the new active segment
                Thread.sleep(1_500);
                send(producer, "sentinel", "last", latest, latestOffset, failure);
                producer.flush();
            }
            if (failure.get() != null) throw failure.get();
            Path partition = partitionDir(data);
            GroupTestBroker.waitFor(() -> hasFile(partition, ".log.cleaned"), "a cleaning under way", Duration.ofSeconds(300));
            ChildBroker.kill(broker);
            broker = ChildBroker.start("file:" + data + "?log.cleaner.backoff.ms=200", port, dir.resolve("broker-2.err"));

            List<String> expected = expected(latest, latestOffset);
            AtomicReference<List<String>> seen = new AtomicReference<>();
            GroupTestBroker.waitFor(() -> {
                seen.set(readAll(bootstrap));
                return seen.get().equals(expected);
            }, "exactly the latest value of each live key (" + expected.size() + " records)", Duration.ofSeconds(600));
            assertEquals(expected, seen.get());
            long onDisk = logBytes(partition);
            System.out.printf("compaction: %,d records (%,d key+value bytes) over %,d keys -> %,d records, %,d bytes in"
                    + " the partition's segments%n", RECORDS + KEYS / 10 + 1, producedBytes, KEYS, expected.size(), onDisk);
            assertTrue(onDisk < producedBytes / 10, "the partition shrank: " + onDisk + " bytes on disk for " + producedBytes
                    + " bytes of keys and values produced");
        } finally {
            ChildBroker.kill(broker);
        }
    }

    private static void send(KafkaProducer<String, String> producer, String key, String value, Map<String, String> latest,
            Map<String, Long> latestOffset, AtomicReference<Exception> failure) {
        producer.send(new ProducerRecord<>(TOPIC, 0, key, value), (m, e) -> {
            if (e != null) {
                failure.set(e);
                return;
            }
            // callbacks of one partition come in offset order: the last one per key is its latest
            latestOffset.put(key, m.offset());
            if (value == null) latest.remove(key);
            else latest.put(key, value);
        });
    }

    /** offset:key=value of each live key's latest record, in offset order. */
    private static List<String> expected(Map<String, String> latest, Map<String, Long> latestOffset) {
        TreeMap<Long, String> byOffset = new TreeMap<>();
        latest.forEach((k, v) -> byOffset.put(latestOffset.get(k), k + "=" + v));
        List<String> out = new ArrayList<>();
        byOffset.forEach((o, kv) -> out.add(o + ":" + kv));
        return out;
    }

    /** Every record from the beginning to the end offset, as offset:key=value, in the order the consumer gets them. */
    private static List<String> readAll(String bootstrap) {
        List<String> out = new ArrayList<>();
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        Properties p = new Properties();
        p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        p.put("bootstrap.servers", bootstrap);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long giveUp = System.currentTimeMillis() + KeyedRecords.GIVE_UP_MS;
            while (consumer.position(tp) < end && System.currentTimeMillis() < giveUp) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    out.add(r.offset() + ":" + r.key() + "=" + r.value());
                }
            }
        } catch (RuntimeException e) {
            out.add("failed: " + e); // the broker may still be opening: try again
        }
        return out;
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        return new KafkaProducer<>(p);
    }

    private static Path partitionDir(Path data) throws IOException {
        try (Stream<Path> dirs = Files.list(data.resolve("data"))) {
            return dirs.filter(d -> d.getFileName().toString().endsWith("-0")).findFirst().orElseThrow();
        }
    }

    private static boolean hasFile(Path partition, String suffix) {
        try (Stream<Path> files = Files.list(partition)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(suffix));
        } catch (IOException e) {
            return false;
        }
    }

    private static long logBytes(Path partition) throws IOException {
        try (Stream<Path> files = Files.list(partition)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
