package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * kafka-clients helpers shared by the end-to-end tests: record i is key "key-i", value {@link #value(int)},
 * timestamp {@link #BASE_TS} + i and headers {@link #headers(int)}; {@link #check} verifies what came back.
 */
final class KeyedRecords {
    /** Record timestamps start an hour ago: recent enough for the default retention (a week) to keep them. */
    static final long BASE_TS = System.currentTimeMillis() - 3_600_000L;
    /** Fail-safe for loops that wait for records; never a timing assertion. */
    static final long GIVE_UP_MS = 120_000;

    private KeyedRecords() {
    }

    static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    static void createTopic(String bootstrap, String name, int partitions) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
        }
    }

    static KafkaProducer<String, byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, byte[]> consumer(String bootstrap, String reset, Properties extra) {
        Properties p = new Properties();
        p.putAll(extra);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        return new KafkaConsumer<>(p);
    }

    static List<TopicPartition> partitions(String topic, int n) {
        List<TopicPartition> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new TopicPartition(topic, i));
        }
        return out;
    }

    static byte[] value(int i) {
        return ("value-" + i + "-" + "x".repeat(i % 97)).getBytes(StandardCharsets.UTF_8);
    }

    static List<Header> headers(int i) {
        return List.of(new RecordHeader("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8)),
                new RecordHeader("empty", new byte[0]), new RecordHeader("null", null));
    }

    /**
     * Sends records i = from..from+n-1 (to {@code partition}, or by key when null) and returns where each
     * landed, indexed by i - from.
     */
    static RecordMetadata[] produce(String bootstrap, String topic, int from, int n, Integer partition)
            throws Exception {
        RecordMetadata[] landed = new RecordMetadata[n];
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
            for (int k = 0; k < n; k++) {
                int index = k;
                int i = from + k;
                producer.send(new ProducerRecord<>(topic, partition, BASE_TS + i, "key-" + i, value(i), headers(i)),
                        (m, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            } else {
                                landed[index] = m;
                            }
                        });
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return landed;
    }

    /** Reads with assign() from the beginning of {@code tps} until {@code n} records arrived (or it gives up). */
    static List<ConsumerRecord<String, byte[]>> consume(String bootstrap, List<TopicPartition> tps, int n) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>(n);
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap, "earliest", new Properties())) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long giveUp = System.currentTimeMillis() + GIVE_UP_MS;
            while (out.size() < n && System.currentTimeMillis() < giveUp) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * Checks that {@code records} are exactly the records {@code landed} (indexed by i) says were acknowledged:
     * each at its partition and offset, offsets consecutive from 0 and send order kept per partition, key,
     * value, timestamp and headers equal. Returns the next offset of each partition.
     */
    static Map<Integer, Long> check(List<ConsumerRecord<String, byte[]>> records, RecordMetadata[] landed) {
        assertEquals(landed.length, records.size(), "every record consumed once");
        Map<Integer, Long> nextOffset = new HashMap<>();
        Map<Integer, Integer> lastIndex = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            int i = Integer.parseInt(r.key().substring("key-".length()));
            RecordMetadata m = landed[i];
            assertEquals(m.partition(), r.partition(), r.key());
            assertEquals(m.offset(), r.offset(), r.key());
            assertEquals(nextOffset.getOrDefault(r.partition(), 0L), r.offset(), "offsets consecutive per partition");
            nextOffset.put(r.partition(), r.offset() + 1);
            assertTrue(lastIndex.getOrDefault(r.partition(), -1) < i, "send order kept per partition");
            lastIndex.put(r.partition(), i);
            assertArrayEquals(value(i), r.value(), r.key());
            assertEquals(BASE_TS + i, r.timestamp(), r.key());
            Header[] got = r.headers().toArray();
            List<Header> want = headers(i);
            assertEquals(want.size(), got.length, r.key());
            for (int h = 0; h < got.length; h++) {
                assertEquals(want.get(h).key(), got[h].key());
                assertArrayEquals(want.get(h).value(), got[h].value());
            }
        }
        return nextOffset;
    }
}
