package kiri.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import kiri.embedded.EmbeddedKiri;
import kiri.testsupport.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Three brokers in this JVM over one PostgreSQL, driven by kafka-clients. */
class PgClusterTest {
    private PgClusterFixture cluster;
    private List<EmbeddedKiri> brokers;

    @BeforeEach
    void start() throws Exception {
        cluster = PgClusterFixture.threeBrokers();
        brokers = cluster.brokers;
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
    }

    private String bootstrap() {
        return cluster.bootstrap();
    }

    @Test
    void leadershipSpreadsAndClientsFollowItWhenABrokerGoes() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            Wait.until("three live brokers", () -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic("t", 6, (short) 1))).all().get(60, TimeUnit.SECONDS);
            Wait.until("leaders on all three brokers", () -> leaders(admin).size() == 3);
        }

        Properties pp = new Properties();
        pp.put("bootstrap.servers", bootstrap());
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        pp.put("delivery.timeout.ms", "120000");
        int total = 6000;
        Map<Integer, List<String>> sent = new HashMap<>(); // partition -> values in acknowledged offset order
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            List<String> values = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                if (i == total / 2) {
                    for (Future<RecordMetadata> f : acks) f.get(120, TimeUnit.SECONDS); // half acknowledged, then a broker goes
                    brokers.get(2).close();
                }
                String v = "v" + i;
                values.add(v);
                acks.add(producer.send(new ProducerRecord<>("t", "k" + (i % 97), v)));
            }
            Map<Integer, Map<Long, String>> byOffset = new HashMap<>();
            for (int i = 0; i < total; i++) {
                RecordMetadata m = acks.get(i).get(120, TimeUnit.SECONDS);
                byOffset.computeIfAbsent(m.partition(), k -> new java.util.TreeMap<>()).put(m.offset(), values.get(i));
            }
            byOffset.forEach((p, m) -> sent.put(p, new ArrayList<>(m.values())));
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            Wait.until("the closed broker leaves", () -> admin.describeCluster().nodes().get().size() == 2);
            Wait.until("its partitions move to the others", () -> leaders(admin).equals(Set.of(1, 2)));
        }

        Properties cp = cluster.consumerProps("g");
        Map<Integer, List<String>> read = new HashMap<>();
        int count = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            consumer.subscribe(List.of("t"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (count < total && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    read.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.value());
                    count++;
                }
            }
            consumer.commitSync();
        }
        Map<Integer, String> shortfall = new java.util.TreeMap<>();
        sent.forEach((p, values) -> {
            int got = read.getOrDefault(p, List.of()).size();
            if (got != values.size()) shortfall.put(p, got + " of " + values.size());
        });
        assertEquals(total, count, "every acknowledged record, once; partitions read short: " + shortfall);
        assertEquals(sent, read, "per partition, in order");
    }

    private static Set<Integer> leaders(Admin admin) throws Exception {
        Set<Integer> out = new HashSet<>();
        TopicDescription d = admin.describeTopics(List.of("t")).allTopicNames().get(60, TimeUnit.SECONDS).get("t");
        for (TopicPartitionInfo p : d.partitions()) {
            Node leader = p.leader();
            if (leader != null) out.add(leader.id());
        }
        return out;
    }
}
