package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
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
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-clients KafkaConsumers with {@code group.protocol=consumer} (KIP-848: ConsumerGroupHeartbeat,
 * server-side assignment) against the broker on memory://: they share a topic, consume every record
 * exactly once with commits, hand partitions over when one leaves; Admin and kafka-consumer-groups
 * describe the group.
 */
class ConsumerProtocolTest {
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static GroupTestBroker cluster;
    private static String bootstrap;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        cluster = GroupTestBroker.start("memory://", Map.of("kiri.group.consumer.heartbeat.interval.ms", "500"));
        bootstrap = cluster.bootstrap();
        admin = cluster.admin();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void produce(String topic, int partitions, int from, int to) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = from; i < to; i++) producer.send(new ProducerRecord<>(topic, i % partitions, null, Integer.toString(i)));
            producer.flush();
        }
    }

    private static KafkaConsumer<String, String> consumer(String group, String clientId, String assignor) {
        return consumer(group, clientId, assignor, null);
    }

    private static KafkaConsumer<String, String> consumer(String group, String clientId, String assignor, String instanceId) {
        Properties p = GroupTestBroker.stringConsumer(bootstrap, group);
        if (instanceId != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        if (assignor != null) p.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, assignor);
        return new KafkaConsumer<>(p);
    }

    private static void waitFor(BooleanSupplier done, String what) throws InterruptedException {
        GroupTestBroker.waitFor(done, what, WAIT);
    }

    /** A member on its own thread: polls, commits what it polled, and counts only committed records. */
    private static final class Member {
        final KafkaConsumer<String, String> consumer;
        final Map<String, AtomicInteger> consumed;
        final AtomicBoolean stop = new AtomicBoolean();
        final Thread thread;
        volatile Set<TopicPartition> assignment = Set.of();
        volatile Throwable failure;

        Member(String group, String clientId, String topic, String assignor, Map<String, AtomicInteger> consumed) {
            this(group, clientId, topic, assignor, null, consumed);
        }

        Member(String group, String clientId, String topic, String assignor, String instanceId,
               Map<String, AtomicInteger> consumed) {
            this.consumer = consumer(group, clientId, assignor, instanceId);
            this.consumed = consumed;
            this.thread = new Thread(() -> run(topic), clientId);
            thread.setDaemon(true);
            thread.start();
        }

        private void run(String topic) {
            try {
                // a listener makes the consumer revoke inside poll(), after the commit of what it polled
                consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    }
                });
                while (!stop.get()) {
                    ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(50));
                    assignment = Set.copyOf(consumer.assignment());
                    if (records.isEmpty()) continue;
                    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                    for (TopicPartition tp : records.partitions()) {
                        next.put(tp, new OffsetAndMetadata(records.records(tp).getLast().offset() + 1));
                    }
                    try {
                        consumer.commitSync(next);
                    } catch (KafkaException e) {
                        // not committed: read them again if still ours (else their next owner does)
                        for (TopicPartition tp : records.partitions()) {
                            if (consumer.assignment().contains(tp)) consumer.seek(tp, records.records(tp).getFirst().offset());
                        }
                        continue;
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
            assertFalse(thread.isAlive(), "member closed");
        }
    }

    private static void assertExactlyOnce(Map<String, AtomicInteger> consumed, int n) {
        List<String> twice = new ArrayList<>();
        consumed.forEach((k, v) -> {
            if (v.get() != 1) twice.add(k + "x" + v.get());
        });
        assertTrue(twice.isEmpty(), "consumed more than once: " + twice);
        for (int i = 0; i < n; i++) assertTrue(consumed.containsKey(Integer.toString(i)), "missing record " + i);
        assertEquals(n, consumed.size());
    }

    @Test
    void twoConsumersShareATopicAndTheSurvivorTakesOverFromCommittedOffsets() throws Exception {
        String topic = "kip848-orders";
        String group = "kip848-group";
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        produce(topic, 4, 0, 400);
        Map<String, AtomicInteger> consumed = new ConcurrentHashMap<>();
        Member a = new Member(group, "kip848-a", topic, null, consumed);
        Member b = new Member(group, "kip848-b", topic, null, consumed);
        try {
            waitFor(() -> a.assignment.size() == 2 && b.assignment.size() == 2, "two partitions each, got "
                    + a.assignment + " and " + b.assignment);
            Set<TopicPartition> both = new java.util.HashSet<>(a.assignment);
            both.addAll(b.assignment);
            assertEquals(4, both.size());
            waitFor(() -> consumed.size() >= 400 || a.failure != null || b.failure != null, "400 records");
            assertNull(a.failure);
            assertNull(b.failure);
            assertExactlyOnce(consumed, 400);

            // Admin sees a consumer group with both members and their assignments
            waitFor(() -> {
                try {
                    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                    return d.groupState() == GroupState.STABLE && d.members().size() == 2
                            && d.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == 2);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "a stable group of two");
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            assertEquals(GroupType.CONSUMER, d.type());
            assertEquals("uniform", d.partitionAssignor());
            assertEquals(Set.of("kip848-a", "kip848-b"), Set.copyOf(d.members().stream().map(MemberDescription::clientId).toList()));
            Collection<GroupListing> listed = admin.listGroups().all().get();
            assertTrue(listed.stream().anyMatch(l -> l.groupId().equals(group) && l.type().orElseThrow() == GroupType.CONSUMER
                    && l.protocol().equals("consumer")), listed.toString());

            // kafka-consumer-groups --describe
            String out = GroupTestBroker.consumerGroupCommand(bootstrap, "--describe", "--group", group);
            assertFalse(out.contains("Error"), out);
            assertEquals(4, out.lines().filter(l -> l.startsWith(group) && l.contains(topic)).count(), out);
            assertTrue(out.lines().anyMatch(l -> l.startsWith(group) && l.contains("kip848-a")), out);
            String members = GroupTestBroker.consumerGroupCommand(bootstrap, "--describe", "--group", group, "--members");
            assertTrue(members.lines().anyMatch(l -> l.startsWith(group) && l.contains("kip848-b")), members);
            String state = GroupTestBroker.consumerGroupCommand(bootstrap, "--describe", "--group", group, "--state");
            assertTrue(state.lines().anyMatch(l -> l.startsWith(group) && l.contains("Stable") && l.contains("uniform")),
                    state);

            // b leaves: a takes over all four partitions and continues from b's committed offsets
            b.leave();
            assertNull(b.failure);
            produce(topic, 4, 400, 800);
            waitFor(() -> a.assignment.size() == 4, "a owns every partition, has " + a.assignment);
            waitFor(() -> consumed.size() >= 800 || a.failure != null, "800 records");
            assertNull(a.failure);
            assertExactlyOnce(consumed, 800);
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            for (int p = 0; p < 4; p++) assertEquals(200L, committed.get(new TopicPartition(topic, p)).offset());
        } finally {
            a.leave();
            if (b.thread.isAlive()) b.leave();
        }
        ConsumerGroupDescription empty = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        assertEquals(GroupState.EMPTY, empty.groupState());
        admin.deleteConsumerGroups(List.of(group)).all().get();
    }

    @Test
    void theRangeAssignorIsSelectable() throws Exception {
        String topic = "kip848-range";
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        Map<String, AtomicInteger> consumed = new ConcurrentHashMap<>();
        Member a = new Member("kip848-range-group", "kip848-range-a", topic, "range", consumed);
        Member b = new Member("kip848-range-group", "kip848-range-b", topic, "range", consumed);
        try {
            waitFor(() -> a.assignment.size() == 2 && b.assignment.size() == 2, "two partitions each");
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("kip848-range-group")).all().get()
                    .get("kip848-range-group");
            assertEquals("range", d.partitionAssignor());
        } finally {
            a.leave();
            b.leave();
        }
    }

    @Test
    void aRestartedStaticMemberGetsItsPartitionsBackWhileTheOtherKeepsItsOwn() throws Exception {
        String topic = "kip848-static";
        String group = "kip848-static-group";
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        Map<String, AtomicInteger> consumed = new ConcurrentHashMap<>();
        Member a = new Member(group, "kip848-static-a", topic, null, "instance-a", consumed);
        Member b = new Member(group, "kip848-static-b", topic, null, consumed);
        Member again = null;
        try {
            waitFor(() -> a.assignment.size() == 2 && b.assignment.size() == 2, "two partitions each");
            Set<TopicPartition> mine = a.assignment;
            Set<TopicPartition> others = b.assignment;
            a.leave(); // a static member's close leaves with epoch -2: its partitions wait for it
            assertNull(a.failure);
            Thread.sleep(1_500); // b heartbeats meanwhile and is not given a's partitions
            assertEquals(others, b.assignment);
            again = new Member(group, "kip848-static-a2", topic, null, "instance-a", consumed);
            Member restarted = again;
            waitFor(() -> restarted.assignment.equals(mine), "the same partitions back, has " + restarted.assignment);
            assertEquals(others, b.assignment);
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            assertTrue(d.members().stream().anyMatch(m -> m.groupInstanceId().orElse("").equals("instance-a")
                    && m.clientId().equals("kip848-static-a2")), d.toString());
            assertEquals(2, d.members().size());
        } finally {
            if (again != null) again.leave();
            b.leave();
        }
    }

    @Test
    void aServerSideRegexSubscriptionPicksUpTopicsCreatedLater() throws Exception {
        admin.createTopics(List.of(new NewTopic("kip848-re-1", 2, (short) 1))).all().get();
        try (KafkaConsumer<String, String> c = consumer("kip848-re-group", "kip848-re", null)) {
            c.subscribe(new org.apache.kafka.clients.consumer.SubscriptionPattern("kip848-re-.*"));
            pollUntil(c, () -> c.assignment().size() == 2, "the regex topic's partitions");
            admin.createTopics(List.of(new NewTopic("kip848-re-2", 1, (short) 1))).all().get();
            pollUntil(c, () -> c.assignment().contains(new TopicPartition("kip848-re-2", 0)), "the new topic's partition");
            assertEquals(3, c.assignment().size());
        }
    }

    @Test
    void aClassicGroupRefusesConsumerProtocolMembersAndTheOtherWayRound() throws Exception {
        String topic = "kip848-mixed";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        try (KafkaConsumer<String, String> c = consumer("kip848-mixed-group", "kip848-mixed", null)) {
            c.subscribe(List.of(topic));
            pollUntil(c, () -> c.assignment().size() == 1, "an assignment");
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "kip848-mixed-group");
            p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> classic = new KafkaConsumer<>(p)) {
                classic.subscribe(List.of(topic));
                org.apache.kafka.common.errors.InconsistentGroupProtocolException e = org.junit.jupiter.api.Assertions.assertThrows(
                        org.apache.kafka.common.errors.InconsistentGroupProtocolException.class,
                        () -> classic.poll(Duration.ofSeconds(30)));
                assertTrue(e.getMessage() != null);
            }
        }
    }

    private static void pollUntil(KafkaConsumer<String, String> c, BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            c.poll(Duration.ofMillis(50));
        }
    }
}
