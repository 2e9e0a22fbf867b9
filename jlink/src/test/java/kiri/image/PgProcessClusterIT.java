package kiri.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import kiri.testsupport.PostgresServer;
import kiri.testsupport.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's failover run: three broker processes of the image over one PostgreSQL; a default kafka-clients producer
 * (idempotent, acks=all) writes 200,000 keyed records over 6 partitions and one broker is SIGKILLed mid-stream;
 * a consumer group of three members, each bootstrapped from a different broker, reads everything. Nothing
 * acknowledged is lost, nothing is read twice, each partition is read in send order, and every partition is
 * consumed from again (a record sent after the kill) within 15 s of the kill, with leases of 6 s
 * ({@code broker.session.timeout.ms} given as {@code --override}, as in server.properties). The resume time is
 * measured end to end: the first read of a record whose send() came after the kill, per partition (so it also
 * counts the producer's failover and any consumer lag).
 */
class PgProcessClusterIT {
    private static final String TOPIC = "orders";
    private static final int PARTITIONS = 6;
    private static final int RECORDS = 200_000;
    private static final int KILL_AFTER_ACKS = 60_000;
    /** Records sent but not yet answered: keeps the producer in step with the cluster, so the kill lands mid-stream. */
    private static final int WINDOW = 5_000;
    private static final int VICTIM = 2;
    private static final long RESUME_BOUND_MS = 15_000;
    /** Kafka's broker keys as server.properties overrides (not URL parameters): the engine must get them from there. */
    private static final List<String> LEASES = List.of("--override", "broker.session.timeout.ms=6000", "--override",
            "broker.heartbeat.interval.ms=1000");

    @TempDir
    Path dir;

    /** What the group read: partition -> offset -> record index, and the first read of a record sent after the kill. */
    private final Map<Integer, NavigableMap<Long, Integer>> read = new ConcurrentHashMap<>();
    private final Map<Integer, Long> resumedNanos = new ConcurrentHashMap<>();
    private final AtomicInteger readTwice = new AtomicInteger();
    private final Map<String, Set<TopicPartition>> assignments = new ConcurrentHashMap<>();
    private final AtomicReference<Throwable> memberFailure = new AtomicReference<>();
    private volatile int firstIndexAfterKill = Integer.MAX_VALUE;
    private volatile boolean stop;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void sigkillOneOfThreeBrokerProcessesMidStream() throws Exception {
        try (PgBrokers cluster = new PgBrokers(dir, 3, "", LEASES);
             Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()))) {
            Wait.until("three live brokers", () -> admin.describeCluster().nodes().get().size() == 3);
            assertTrue(longestLeaseSeconds(cluster) <= 6.0, "leases of 6 s (the override), not Kafka's default 9 s: "
                    + longestLeaseSeconds(cluster));
            admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get(60, TimeUnit.SECONDS);
            // asked inside the wait: a broker that has not yet heard of the new topic answers UNKNOWN_TOPIC_OR_PARTITION
            AtomicReference<Map<Integer, Integer>> placement = new AtomicReference<>();
            Wait.until("leaders on all three brokers", () -> {
                placement.set(leaders(admin));
                return placement.get().size() == PARTITIONS && new HashSet<>(placement.get().values()).size() == 3;
            });
            Set<Integer> victimPartitions = new HashSet<>();
            placement.get().forEach((p, leader) -> {
                if (leader == VICTIM) victimPartitions.add(p);
            });

            List<Thread> members = new ArrayList<>();
            for (int m = 1; m <= 3; m++) {
                String bootstrap = cluster.bootstrap(m);
                members.add(Thread.ofPlatform().name("member-" + m).start(() -> member(bootstrap)));
            }
            Wait.until("three members sharing the six partitions", () -> assignments.size() == 3
                    && assignments.values().stream().noneMatch(Set::isEmpty)
                    && assignments.values().stream().mapToInt(Set::size).sum() == PARTITIONS);

            Map<Integer, Map<Long, Integer>> acked = new ConcurrentHashMap<>();
            AtomicInteger ackCount = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            Semaphore window = new Semaphore(WINDOW);
            long killNanos = 0;
            int ackedAtKill = 0;
            try (KafkaProducer<String, String> producer = producer(cluster.bootstrap())) {
                for (int i = 0; i < RECORDS; i++) {
                    window.acquire();
                    if (killNanos == 0 && ackCount.get() >= KILL_AFTER_ACKS) {
                        ackedAtKill = ackCount.get();
                        cluster.kill(VICTIM);
                        killNanos = System.nanoTime();
                        firstIndexAfterKill = i;
                    }
                    int index = i;
                    producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "value-" + i), (md, e) -> {
                        if (e == null) {
                            acked.computeIfAbsent(md.partition(), p -> new ConcurrentHashMap<>()).put(md.offset(), index);
                            ackCount.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                        }
                        window.release();
                    });
                }
                producer.flush();
            }
            assertTrue(killNanos > 0 && ackedAtKill < RECORDS, "the kill came mid-stream: " + ackedAtKill + " acknowledged then");
            assertEquals(0, failed.get(), "every record acknowledged (delivery.timeout.ms 120 s)");

            Map<TopicPartition, Long> ends = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                TopicPartition tp = new TopicPartition(TOPIC, p);
                ends.put(tp, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get(60, TimeUnit.SECONDS).get(tp).offset());
            }
            Wait.until("the group read every partition to its end " + ends, Duration.ofMinutes(5), () -> {
                if (memberFailure.get() != null) throw new AssertionError("a member failed", memberFailure.get());
                return ends.entrySet().stream().allMatch(e -> read.getOrDefault(e.getKey().partition(), new ConcurrentSkipListMap<>())
                        .size() >= e.getValue());
            });
            stop = true;
            for (Thread t : members) t.join(TimeUnit.MINUTES.toMillis(2));
            if (memberFailure.get() != null) throw new AssertionError("a member failed", memberFailure.get());

            assertEquals(0, readTwice.get(), "records read twice by the group");
            Set<Integer> indices = new HashSet<>();
            for (var e : ends.entrySet()) {
                int p = e.getKey().partition();
                NavigableMap<Long, Integer> log = read.get(p);
                assertEquals(e.getValue(), (long) log.size(), "partition " + p + " read from 0 to its end, once");
                assertEquals(e.getValue() - 1, (long) log.lastKey(), "partition " + p + ": offsets contiguous");
                int previous = -1;
                for (var r : log.entrySet()) {
                    assertTrue(r.getValue() > previous, "partition " + p + " in send order at offset " + r.getKey());
                    previous = r.getValue();
                    assertTrue(indices.add(r.getValue()), "record " + r.getValue() + " stored once (idempotence)");
                }
                for (var a : acked.getOrDefault(p, Map.of()).entrySet()) {
                    assertEquals(a.getValue(), log.get(a.getKey()), "acknowledged record at " + p + "@" + a.getKey());
                }
            }
            assertEquals(RECORDS, indices.size(), "every record is in the log");

            // every partition (the victim's included) is read from again: the first record sent after the kill
            assertEquals(PARTITIONS, resumedNanos.size(), "every partition read after the kill: " + resumedNanos.keySet());
            long firstAnyMs = resumedNanos.values().stream().mapToLong(Long::longValue).min().orElseThrow();
            long allMs = resumedNanos.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            long victimMs = victimPartitions.stream().mapToLong(resumedNanos::get).max().orElseThrow();
            System.out.printf("pg process cluster: %d acknowledged before the SIGKILL of broker %d (leader of %s); first"
                            + " record sent after it read %d ms after the kill, all partitions read again after %d ms (its"
                            + " partitions: %d ms)%n", ackedAtKill, VICTIM, victimPartitions, ms(firstAnyMs - killNanos),
                    ms(allMs - killNanos), ms(victimMs - killNanos));
            assertTrue(ms(allMs - killNanos) <= RESUME_BOUND_MS, "the group consumed every partition again within 15 s of"
                    + " the kill: " + ms(allMs - killNanos) + " ms");
        }
    }

    /** The longest time any broker's lease still has to run, as PostgreSQL sees it. */
    private static double longestLeaseSeconds(PgBrokers cluster) throws Exception {
        PostgresServer pg = cluster.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT extract(epoch FROM max(lease_until) - now()) FROM kiri_brokers")) {
            assertTrue(rs.next());
            return rs.getDouble(1);
        }
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** One group member: reads, records, commits synchronously after each poll (and before giving partitions up). */
    private void member(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "readers");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            String name = Thread.currentThread().getName();
            consumer.subscribe(List.of(TOPIC), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    consumer.commitSync();
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assignments.put(name, Set.copyOf(consumer.assignment()));
                }
            });
            while (!stop) {
                var records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, String> r : records) {
                    long now = System.nanoTime();
                    int index = Integer.parseInt(r.key().substring("key-".length()));
                    if (read.computeIfAbsent(r.partition(), k -> new ConcurrentSkipListMap<>()).putIfAbsent(r.offset(), index) != null) {
                        readTwice.incrementAndGet();
                    }
                    if (index >= firstIndexAfterKill) resumedNanos.putIfAbsent(r.partition(), now);
                }
                if (!records.isEmpty()) consumer.commitSync();
            }
        } catch (Throwable t) {
            memberFailure.compareAndSet(null, t);
        }
    }

    private static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p); // Kafka's defaults: idempotent, acks=all, delivery.timeout.ms 120 s
    }

    /** Partition -> leader node id (partitions without a leader left out). */
    static Map<Integer, Integer> leaders(Admin admin) throws Exception {
        Map<Integer, Integer> out = new HashMap<>();
        for (TopicPartitionInfo p : admin.describeTopics(List.of(TOPIC)).allTopicNames().get(60, TimeUnit.SECONDS)
                .get(TOPIC).partitions()) {
            if (p.leader() != null && !p.leader().isEmpty()) out.put(p.partition(), p.leader().id());
        }
        return out;
    }
}
