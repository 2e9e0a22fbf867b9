package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real broker process on {@code file:} storage is SIGKILLed while a kafka-clients producer (acks=all) is
 * sending; restarted on the same directory, it still has every acknowledged record at its acknowledged
 * offset, with offsets contiguous from 0. bench/crash-test.sh is the long form (many kill/restart cycles).
 */
class BrokerCrashTest {
    private static final int RECORDS = 30_000;
    private static final int ACKS_BEFORE_KILL = 4_000;
    private static final int PARTITIONS = 3;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyAcknowledgedRecordSurvivesSigkill() throws Exception {
        Path data = dir.resolve("data");
        int port = freePort();
        String bootstrap = "127.0.0.1:" + port;
        String topic = "crash";
        Process broker = startBroker(data, port, 1);
        Map<TopicPartition, Map<Long, Integer>> acked = new ConcurrentHashMap<>();
        AtomicInteger ackCount = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        int ackedAtKill;
        int unansweredAtKill;
        try {
            KeyedRecords.createTopic(bootstrap, topic, PARTITIONS);
            CompletableFuture<Void> sending;
            try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
                sending = CompletableFuture.runAsync(() -> {
                    for (int i = 0; i < RECORDS; i++) {
                        int index = i;
                        producer.send(new ProducerRecord<>(topic, "key-" + i, KeyedRecords.value(i)), (m, e) -> {
                            if (e != null) {
                                failed.incrementAndGet();
                            } else {
                                acked.computeIfAbsent(new TopicPartition(m.topic(), m.partition()),
                                        tp -> new ConcurrentHashMap<>()).put(m.offset(), index);
                                ackCount.incrementAndGet();
                            }
                        });
                        sent.incrementAndGet();
                        if (i % 50 == 49) {
                            pause(1); // a steady stream rather than one burst, so the kill lands mid-stream
                        }
                    }
                });
                long giveUp = System.currentTimeMillis() + 60_000;
                while (ackCount.get() < ACKS_BEFORE_KILL && System.currentTimeMillis() < giveUp) {
                    pause(5);
                }
                ackedAtKill = ackCount.get();
                unansweredAtKill = sent.get() - ackedAtKill - failed.get();
                broker.destroyForcibly(); // SIGKILL: no shutdown hook, no close
                assertTrue(broker.waitFor(30, TimeUnit.SECONDS), "the killed broker exited");
                broker = startBroker(data, port, 2);
                sending.get(60, TimeUnit.SECONDS);
                producer.flush();
            }
            assertTrue(ackedAtKill >= ACKS_BEFORE_KILL, "acks before the kill: " + ackedAtKill);
            assertTrue(ackedAtKill < RECORDS, "the kill came mid-stream: " + ackedAtKill + " of " + RECORDS);
            assertEquals(RECORDS, ackCount.get() + failed.get(), "every send completed");

            Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> log = readAll(bootstrap, topic);
            Set<Integer> seen = new HashSet<>();
            int unacknowledged = 0;
            for (var e : log.entrySet()) {
                List<ConsumerRecord<String, byte[]>> records = e.getValue();
                Map<Long, Integer> ackedHere = acked.getOrDefault(e.getKey(), Map.of());
                for (int o = 0; o < records.size(); o++) {
                    ConsumerRecord<String, byte[]> r = records.get(o);
                    assertEquals(o, r.offset(), "offsets contiguous from 0 in " + e.getKey());
                    int i = Integer.parseInt(r.key().substring("key-".length()));
                    assertArrayEquals(KeyedRecords.value(i), r.value(), r.key());
                    assertTrue(seen.add(i), "no record twice (idempotent producer): " + r.key());
                    Integer want = ackedHere.get(r.offset());
                    if (want == null) {
                        unacknowledged++;
                    } else {
                        assertEquals(want, i, "the acknowledged record at " + e.getKey() + "@" + r.offset());
                    }
                }
                for (long offset : ackedHere.keySet()) {
                    assertTrue(offset < records.size(), "acknowledged " + e.getKey() + "@" + offset + " is present");
                }
            }
            System.out.printf("crash test: %d acknowledged (%d before the SIGKILL, %d sent but unanswered then), %d"
                    + " failed, %d present but unacknowledged, %d records read back%n", ackCount.get(), ackedAtKill,
                    unansweredAtKill, failed.get(), unacknowledged, seen.size());
        } finally {
            broker.destroyForcibly();
            broker.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new KafkaProducer<>(p);
    }

    /** Every record of every partition, from offset 0 to the end offset, in offset order. */
    private static Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> readAll(String bootstrap, String topic) {
        List<TopicPartition> tps = KeyedRecords.partitions(topic, PARTITIONS);
        Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> out = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = KeyedRecords.consumer(bootstrap, "earliest", new Properties())) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            long total = ends.values().stream().mapToLong(Long::longValue).sum();
            long read = 0;
            long giveUp = System.currentTimeMillis() + KeyedRecords.GIVE_UP_MS;
            while (read < total && System.currentTimeMillis() < giveUp) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    out.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), tp -> new ArrayList<>()).add(r);
                    read++;
                }
            }
            assertEquals(total, read, "read up to the end offsets " + ends);
        }
        return out;
    }

    private Process startBroker(Path data, int port, int run) throws Exception {
        return ChildBroker.start("file:" + data, port, dir.resolve("broker-" + run + ".err"));
    }

    /** The broker's runtime modules out of the test JVM's module path (see {@link ChildBroker}). */
    static String brokerModulePath() {
        return ChildBroker.modulePath();
    }

    private static int freePort() throws IOException {
        return ChildBroker.freePort();
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
