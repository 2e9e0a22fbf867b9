package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import kiri.embedded.EmbeddedKiri;
import kiri.embedded.junit.KiriBroker;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Plain kafka-clients code tested against an in-process Kiri broker, one fresh broker per test. */
class OrdersTest {
    @KiriBroker(topics = "orders:3")
    EmbeddedKiri kiri;

    @Test
    void producesAndConsumesInAGroup() throws Exception {
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>("orders", "customer-" + i, "order-" + i)).get();
            }
        }
        try (KafkaConsumer<String, String> consumer = consumer("billing", Map.of())) {
            consumer.subscribe(List.of("orders"));
            assertEquals(10, poll(consumer, 10).size());
            consumer.commitSync();
            long committed = 0;
            for (int p = 0; p < 3; p++) {
                OffsetAndMetadata o = consumer.committed(java.util.Set.of(new TopicPartition("orders", p)))
                        .get(new TopicPartition("orders", p));
                committed += o == null ? 0 : o.offset();
            }
            assertEquals(10, committed);
        }
    }

    @Test
    void readCommittedSeesOnlyCommittedTransactions() throws Exception {
        try (KafkaProducer<String, String> producer = producer(Map.of("transactional.id", "orders-tx"))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("orders", "a", "aborted"));
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("orders", "a", "committed"));
            producer.commitTransaction();
        }
        try (KafkaConsumer<String, String> consumer = consumer("audit", Map.of("isolation.level", "read_committed"))) {
            consumer.subscribe(List.of("orders"));
            List<String> values = new ArrayList<>();
            for (ConsumerRecord<String, String> r : poll(consumer, 1)) {
                values.add(r.value());
            }
            assertEquals(List.of("committed"), values);
        }
    }

    private KafkaProducer<String, String> producer(Map<String, String> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kiri.bootstrapServers());
        p.putAll(extra);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer(String group, Map<String, String> extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kiri.bootstrapServers());
        p.put("group.id", group);
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.putAll(extra);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** Polls until {@code count} records arrived (or a generous deadline passed). */
    private static List<ConsumerRecord<String, String>> poll(KafkaConsumer<String, String> consumer, int count) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        return out;
    }
}
