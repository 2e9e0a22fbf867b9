package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Consumer groups that really consume, on memory:// (which keeps records): exactly-once group
 * consumption through joins, leaves and a killed member; two groups at once; kcat -G; isolation
 * levels; consume-transform-produce with offsets committed in the transaction.
 */
class GroupConsumeTest {
    private static final Duration WAIT = Duration.ofSeconds(180);
    private static GroupTestBroker cluster;
    private static String bootstrap;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        cluster = GroupTestBroker.start("memory://", GroupTestBroker.SHORT_CLASSIC_TIMEOUTS);
        bootstrap = cluster.bootstrap();
        admin = cluster.admin();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void createTopic(String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
    }

    private static Properties producerProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        return p;
    }

    /** Produces "0".."n-1" round-robin over the partitions. */
    private static void produce(String topic, int partitions, int n) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps())) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, i % partitions, null, Integer.toString(i)));
            }
            producer.flush();
        }
    }

    private static KafkaConsumer<String, String> consumer(String group, Map<String, Object> extra) {
        Properties p = GroupTestBroker.stringConsumer(bootstrap, group);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        p.putAll(extra);
        return new KafkaConsumer<>(p);
    }

    private static void waitFor(BooleanSupplier done, String what) throws InterruptedException {
        GroupTestBroker.waitFor(done, what, WAIT);
    }

    /**
     * A group member on its own thread: polls, then commits what it polled; only records whose offsets
     * were committed count as consumed (records of a failed commit are redelivered to someone else).
     */
    private static final class Member {
        final KafkaConsumer<String, String> consumer;
        final Map<String, AtomicInteger> consumed;
        final AtomicBoolean stop = new AtomicBoolean();
        /** Dies between a poll and its commit: what it polled last is lost, as in a crash. */
        final AtomicBoolean kill = new AtomicBoolean();
        final Thread thread;
        volatile Throwable failure;
        /** What it polled and never committed when it died. */
        final Set<String> lost = ConcurrentHashMap.newKeySet();
        volatile boolean died;

        /** Members pause their partitions while this many records are consumed (they still poll, so they still rebalance). */
        final AtomicInteger allowance;

        Member(String name, String group, String topic, Map<String, AtomicInteger> consumed, Map<String, Object> extra) {
            this(name, group, topic, consumed, extra, new AtomicInteger(Integer.MAX_VALUE));
        }

        Member(String name, String group, String topic, Map<String, AtomicInteger> consumed, Map<String, Object> extra,
               AtomicInteger allowance) {
            this.consumer = consumer(group, extra);
            this.consumed = consumed;
            this.allowance = allowance;
            this.thread = new Thread(() -> run(topic), name);
            thread.setDaemon(true);
            thread.start();
        }

        private void run(String topic) {
            try {
                consumer.subscribe(List.of(topic));
                while (!stop.get()) {
                    // a member about to die ignores the allowance: it must get records to lose
                    if (!kill.get() && consumed.size() >= allowance.get()) {
                        consumer.pause(consumer.assignment());
                    } else if (!consumer.paused().isEmpty()) {
                        consumer.resume(consumer.paused());
                    }
                    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(50));
                    if (kill.get()) {
                        if (records.isEmpty()) continue; // wait for something to lose
                        for (ConsumerRecord<String, String> r : records) lost.add(r.value());
                        died = true;
                        return; // never commits, never closes: the broker must take its partitions away
                    }
                    if (records.isEmpty()) continue;
                    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                    for (TopicPartition tp : records.partitions()) {
                        List<ConsumerRecord<String, String>> rs = records.records(tp);
                        next.put(tp, new OffsetAndMetadata(rs.getLast().offset() + 1));
                    }
                    try {
                        consumer.commitSync(next);
                    } catch (CommitFailedException | RebalanceInProgressException e) {
                        continue; // fenced by a rebalance: these records go to the partitions' new owners
                    }
                    for (ConsumerRecord<String, String> r : records) {
                        consumed.computeIfAbsent(r.value(), k -> new AtomicInteger()).incrementAndGet();
                    }
                }
                consumer.close();
            } catch (Throwable t) {
                failure = t;
            }
        }

        void leave() throws InterruptedException {
            stop.set(true);
            thread.join(TimeUnit.SECONDS.toMillis(60));
        }
    }

    private static void assertExactlyOnce(Map<String, AtomicInteger> consumed, int n) {
        assertEquals(n, consumed.size(), "distinct records consumed");
        List<String> twice = new ArrayList<>();
        consumed.forEach((k, v) -> {
            if (v.get() != 1) twice.add(k + "x" + v.get());
        });
        assertTrue(twice.isEmpty(), "consumed more than once: " + twice.subList(0, Math.min(20, twice.size())));
        for (int i = 0; i < n; i++) assertTrue(consumed.containsKey(Integer.toString(i)), "missing record " + i);
    }

    private static long committedTotal(String group) throws Exception {
        long sum = 0;
        for (OffsetAndMetadata o : admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().values()) {
            sum += o.offset();
        }
        return sum;
    }

    private static void waitForMembers(String group, int n) throws InterruptedException {
        waitFor(() -> {
            try {
                var d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                return d.groupState() == org.apache.kafka.common.GroupState.STABLE && d.members().size() == n;
            } catch (Exception e) {
                return false;
            }
        }, n + " stable members");
    }

    @Test
    void aGroupConsumes300kRecordsExactlyOnceThroughJoinsLeavesAndAKill() throws Exception {
        int n = 300_000;
        createTopic("stream", 6);
        produce("stream", 6, n);
        Map<String, AtomicInteger> consumed = new ConcurrentHashMap<>();
        // consumption is gated so that every membership change happens with records left everywhere
        AtomicInteger allowance = new AtomicInteger(30_000);
        Map<String, Object> fast = Map.of(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000",
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500", ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "5000");
        Member a = new Member("member-a", "stream-group", "stream", consumed, fast, allowance);
        waitFor(() -> consumed.size() >= 30_000, "the first member to consume");
        Member b = new Member("member-b", "stream-group", "stream", consumed, fast, allowance);
        waitForMembers("stream-group", 2);
        allowance.set(80_000);
        waitFor(() -> consumed.size() >= 80_000, "two members to consume");
        Member c = new Member("member-c", "stream-group", "stream", consumed, fast, allowance);
        waitForMembers("stream-group", 3);
        allowance.set(130_000);
        waitFor(() -> consumed.size() >= 130_000, "three members to consume");
        b.kill.set(true); // b dies between its next poll and that poll's commit
        allowance.set(180_000);
        waitFor(() -> b.died, "b to die");
        waitFor(() -> consumed.size() >= 180_000, "the others to go on without b");
        waitForMembers("stream-group", 2); // b's heartbeat thread gives up after max.poll.interval.ms
        a.leave();
        Member d = new Member("member-d", "stream-group", "stream", consumed, fast, allowance);
        waitForMembers("stream-group", 2);
        allowance.set(Integer.MAX_VALUE);
        waitFor(() -> consumed.size() >= n, "every record");
        c.leave();
        d.leave();
        b.leave();
        b.consumer.close(Duration.ofSeconds(5));
        for (Member m : List.of(a, b, c, d)) {
            if (m.failure != null) throw new AssertionError(m.thread.getName() + " failed", m.failure);
        }
        assertExactlyOnce(consumed, n);
        assertFalse(b.lost.isEmpty());
        for (String v : b.lost) assertEquals(1, consumed.get(v).get(), "b's uncommitted record " + v + " went to another member");
        assertEquals(n, committedTotal("stream-group"), "the committed offsets are the log end offsets");
    }

    @Test
    void twoGroupsConsumeTheSameTopicAtOnceEachExactlyOnce() throws Exception {
        int n = 40_000;
        createTopic("shared", 4);
        produce("shared", 4, n);
        Map<String, AtomicInteger> first = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> second = new ConcurrentHashMap<>();
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            members.add(new Member("first-" + i, "first", "shared", first, Map.of()));
            members.add(new Member("second-" + i, "second", "shared", second, Map.of()));
        }
        waitFor(() -> first.size() >= n && second.size() >= n, "both groups to consume everything");
        for (Member m : members) m.leave();
        for (Member m : members) {
            if (m.failure != null) throw new AssertionError(m.thread.getName() + " failed", m.failure);
        }
        assertExactlyOnce(first, n);
        assertExactlyOnce(second, n);
        assertEquals(n, committedTotal("first"));
        assertEquals(n, committedTotal("second"));
    }

    @Test
    void kcatConsumesInABalancedGroupAndCommits() throws Exception {
        int n = 1000;
        createTopic("kcat-balanced", 2);
        produce("kcat-balanced", 2, n);
        Process kcat;
        try {
            kcat = new ProcessBuilder("kcat", "-b", bootstrap, "-G", "kcat-readers", "-c", Integer.toString(n),
                    "-f", "%s\\n", "-o", "beginning", "kcat-balanced").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        assertTrue(kcat.waitFor(120, TimeUnit.SECONDS), "kcat consumed its " + n + " messages and exited");
        String out = new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Set<String> lines = new HashSet<>(out.lines().toList());
        assertEquals(n, out.lines().count(), "one line per message");
        for (int i = 0; i < n; i++) assertTrue(lines.contains(Integer.toString(i)), "missing " + i);
        // librdkafka commits what it consumed as it closes
        waitFor(() -> {
            try {
                return committedTotal("kcat-readers") == n;
            } catch (Exception e) {
                return false;
            }
        }, "kcat's commits");
    }

    private static KafkaProducer<String, String> transactional(String id) {
        Properties p = producerProps();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        return new KafkaProducer<>(p);
    }

    /** Everything a fresh group member reads from {@code topic} until it has seen {@code n} records (or the wait ends). */
    private static List<String> readAll(String topic, String group, String isolation, int n) {
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer(group, Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation))) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) out.add(r.value());
            }
            // a little longer: nothing more may come
            long settle = System.nanoTime() + Duration.ofSeconds(1).toNanos();
            while (System.nanoTime() < settle) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) out.add(r.value());
            }
        }
        return out;
    }

    @Test
    void readCommittedSeesOnlyCommittedTransactionsAndReadUncommittedSeesAll() throws Exception {
        createTopic("isolation", 1);
        try (KafkaProducer<String, String> producer = transactional("iso-tx")) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>("isolation", 0, null, "committed-" + i));
            producer.commitTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>("isolation", 0, null, "aborted-" + i));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>("isolation", 0, null, "open-" + i));
            producer.flush();

            List<String> committed = readAll("isolation", "rc", "read_committed", 10);
            assertEquals(10, committed.size(), committed.toString());
            assertTrue(committed.stream().allMatch(v -> v.startsWith("committed-")), committed.toString());

            List<String> uncommitted = readAll("isolation", "ru", "read_uncommitted", 18);
            assertEquals(18, uncommitted.size(), uncommitted.toString());
            assertTrue(uncommitted.containsAll(List.of("aborted-0", "open-2")), uncommitted.toString());

            producer.commitTransaction();
        }
        List<String> after = readAll("isolation", "rc-after", "read_committed", 13);
        assertEquals(13, after.size(), after.toString());
        assertTrue(after.stream().noneMatch(v -> v.startsWith("aborted-")), after.toString());
    }

    @Test
    void consumeTransformProduceCommitsOffsetsInTheTransaction() throws Exception {
        int n = 2_000;
        createTopic("ctp-in", 2);
        createTopic("ctp-out", 2);
        produce("ctp-in", 2, n);
        int transactions = 0;
        boolean aborted = false;
        try (KafkaProducer<String, String> producer = transactional("ctp-tx");
             KafkaConsumer<String, String> consumer = consumer("ctp-group",
                     Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "300"))) {
            producer.initTransactions();
            consumer.subscribe(List.of("ctp-in"));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (committedTotal("ctp-group") < n) {
                if (System.nanoTime() > deadline) throw new AssertionError("the pipeline never finished");
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                if (records.isEmpty()) continue;
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    producer.send(new ProducerRecord<>("ctp-out", r.partition(), null, "out-" + r.value()));
                    next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
                if (!aborted && transactions == 2) {
                    // a failed step: abort, and go back to the last committed positions
                    producer.abortTransaction();
                    aborted = true;
                    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
                    for (TopicPartition tp : consumer.assignment()) {
                        OffsetAndMetadata o = committed.get(tp);
                        consumer.seek(tp, o == null ? 0L : o.offset());
                    }
                    continue;
                }
                try {
                    producer.commitTransaction();
                } catch (KafkaException e) {
                    throw new AssertionError("commit failed", e);
                }
                transactions++;
            }
        }
        assertTrue(aborted, "the test aborted one transaction");
        List<String> out = readAll("ctp-out", "ctp-verify", "read_committed", n);
        assertEquals(n, out.size(), "each input record transformed exactly once");
        assertEquals(n, new HashSet<>(out).size());
        for (int i = 0; i < n; i++) assertTrue(out.contains("out-" + i), "missing out-" + i);
        var ends = admin.listOffsets(Map.of(new TopicPartition("ctp-in", 0), OffsetSpec.latest(),
                new TopicPartition("ctp-in", 1), OffsetSpec.latest())).all().get();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("ctp-group")
                .partitionsToOffsetAndMetadata().get();
        for (var e : ends.entrySet()) assertEquals(e.getValue().offset(), committed.get(e.getKey()).offset());
    }
}
