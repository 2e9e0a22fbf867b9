package kiri.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import kiri.testsupport.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL going away under three brokers (a fast shutdown, then a SIGKILL of the postmaster) while a default
 * producer (idempotent, acks=all) writes: requests in flight are answered with retriable errors, the brokers stay up,
 * reconnect and renew their leases, the producer carries on by itself, and a consumer group reads every acknowledged
 * record once, in order.
 */
class PgOutageTest {
    private static final String TOPIC = "t";
    private PgClusterFixture cluster;

    @BeforeEach
    void start() throws Exception {
        cluster = PgClusterFixture.threeBrokers();
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    void nothingAcknowledgedIsLostWhenPostgresStopsOrCrashesMidStream() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()))) {
            Wait.until("three live brokers", () -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic(TOPIC, 6, (short) 1))).all().get(60, TimeUnit.SECONDS);
            Wait.until("leaders on all three brokers", () -> leaders(admin).size() == 3);
        }
        Properties pp = producerProps();
        pp.put("delivery.timeout.ms", "240000");
        // a second producer that does not retry: what the brokers answer while PostgreSQL is away
        Properties probeProps = producerProps();
        probeProps.put("enable.idempotence", "false");
        probeProps.put("retries", "0");
        probeProps.put("request.timeout.ms", "120000");
        probeProps.put("delivery.timeout.ms", "240000");

        int perPhase = 1500;
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        List<String> values = new ArrayList<>();
        // a group member that consumes throughout the outages (at least once: a redelivery is allowed)
        Set<String> seenLive = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicReference<Throwable> liveFailure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stopLive = new java.util.concurrent.atomic.AtomicBoolean();
        Thread live = Thread.ofPlatform().name("live-consumer").start(() -> {
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cluster.consumerProps("live"))) {
                consumer.subscribe(List.of(TOPIC));
                while (!stopLive.get()) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) seenLive.add(r.value());
                }
            } catch (Throwable t) {
                liveFailure.set(t);
            }
        });
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp);
             KafkaProducer<String, String> probe = new KafkaProducer<>(probeProps)) {
            probe.send(new ProducerRecord<>(TOPIC, "probe", "warm-up")).get(120, TimeUnit.SECONDS); // metadata in hand
            send(producer, acks, values, perPhase);
            for (Future<RecordMetadata> f : acks) f.get(120, TimeUnit.SECONDS);

            for (boolean crash : List.of(false, true)) {
                send(producer, acks, values, perPhase / 3); // in flight as the server goes
                if (crash) cluster.pg.kill();
                else cluster.pg.stop();
                ExecutionException refused = assertThrows(ExecutionException.class,
                        () -> probe.send(new ProducerRecord<>(TOPIC, "probe", "refused")).get(240, TimeUnit.SECONDS),
                        "a produce while PostgreSQL is away is not acknowledged");
                assertInstanceOf(RetriableException.class, refused.getCause(), "a retriable error");
                assertFalse(refused.getCause() instanceof TimeoutException, "answered, not left hanging: " + refused.getCause());
                send(producer, acks, values, perPhase / 3); // waiting for the server
                cluster.pg.startAgain();
                send(producer, acks, values, perPhase);
                for (Future<RecordMetadata> f : acks) f.get(240, TimeUnit.SECONDS); // the producer recovered by itself
            }
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()))) {
            Wait.until("all three brokers live again", () -> admin.describeCluster().nodes().get().size() == 3);
            Wait.until("leaders on all three brokers again", () -> leaders(admin).size() == 3);
        }

        Map<Integer, List<String>> sent = new HashMap<>();
        Map<Integer, Map<Long, String>> byOffset = new HashMap<>();
        for (int i = 0; i < acks.size(); i++) {
            RecordMetadata m = acks.get(i).get();
            byOffset.computeIfAbsent(m.partition(), k -> new TreeMap<>()).put(m.offset(), values.get(i));
        }
        byOffset.forEach((p, m) -> sent.put(p, new ArrayList<>(m.values())));
        Map<Integer, List<String>> read = consumeAll(acks.size());
        assertEquals(sent, read, "every acknowledged record once, in order per partition");
        try {
            Wait.until("the consumer that ran through the outages read every acknowledged record",
                    () -> liveFailure.get() != null || seenLive.containsAll(values));
        } finally {
            stopLive.set(true);
            live.join(60_000);
        }
        if (liveFailure.get() != null) throw new AssertionError("the consumer that ran through the outages failed", liveFailure.get());
    }

    private Properties producerProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", cluster.bootstrap());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        return p;
    }

    private void send(KafkaProducer<String, String> producer, List<Future<RecordMetadata>> acks, List<String> values, int count) {
        for (int i = 0; i < count; i++) {
            String v = "v" + values.size();
            values.add(v);
            acks.add(producer.send(new ProducerRecord<>(TOPIC, "k" + (values.size() % 97), v)));
        }
    }

    /** The records of every partition, in order, as a group member reads them (probe records left out). */
    private Map<Integer, List<String>> consumeAll(int expected) {
        Properties cp = cluster.consumerProps("g");
        Map<Integer, List<String>> read = new HashMap<>();
        int count = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (count < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    if ("probe".equals(r.key())) continue;
                    read.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.value());
                    count++;
                }
            }
            // and nothing more: a duplicate would show up here
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofSeconds(1))) {
                if (!"probe".equals(r.key())) read.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.value());
            }
        }
        return read;
    }

    private static Set<Integer> leaders(Admin admin) throws Exception {
        Set<Integer> out = new HashSet<>();
        for (TopicPartitionInfo p : admin.describeTopics(List.of(TOPIC)).allTopicNames().get(60, TimeUnit.SECONDS).get(TOPIC).partitions()) {
            if (p.leader() != null) out.add(p.leader().id());
        }
        return out;
    }
}
