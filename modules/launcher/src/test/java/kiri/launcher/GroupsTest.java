package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Consumer groups and transactions with unmodified kafka-clients against an in-process broker on
 * null:// storage (records are dropped, so nothing is consumed: these tests are about membership,
 * assignment, committed offsets and transaction state).
 */
class GroupsTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static GroupTestBroker cluster;
    private static String bootstrap;
    private static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        cluster = GroupTestBroker.start("null://", GroupTestBroker.SHORT_CLASSIC_TIMEOUTS);
        bootstrap = cluster.bootstrap();
        admin = cluster.admin();
        admin.createTopics(List.of(new NewTopic("events", 4, (short) 1), new NewTopic("other", 1, (short) 1)))
                .all().get();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static KafkaConsumer<String, String> consumer(String group, Map<String, Object> extra) {
        Properties p = GroupTestBroker.stringConsumer(bootstrap, group);
        p.putAll(extra);
        return new KafkaConsumer<>(p);
    }

    /** Polls every consumer in turn until {@code done} holds (consumers are single-threaded: one thread drives them all). */
    @SafeVarargs
    private static void pollUntil(BooleanSupplier done, String what, KafkaConsumer<String, String>... consumers) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            for (KafkaConsumer<String, String> c : consumers) c.poll(Duration.ofMillis(50));
        }
    }

    private static void waitFor(BooleanSupplier done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    private static ConsumerGroupDescription describe(String group) {
        try {
            return admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    private static Set<TopicPartition> all(String topic, int n) {
        Set<TopicPartition> out = new HashSet<>();
        for (int i = 0; i < n; i++) out.add(new TopicPartition(topic, i));
        return out;
    }

    @Test
    void aSubscribedConsumerJoinsGetsEveryPartitionAndCommitsOffsets() throws Exception {
        try (KafkaConsumer<String, String> c = consumer("solo", Map.of())) {
            c.subscribe(List.of("events"));
            pollUntil(() -> c.assignment().size() == 4, "assignment", c);
            assertEquals(all("events", 4), c.assignment());

            TopicPartition p2 = new TopicPartition("events", 2);
            c.commitSync(Map.of(p2, new OffsetAndMetadata(17L, "checkpoint")));
            OffsetAndMetadata committed = c.committed(Set.of(p2)).get(p2);
            assertEquals(17L, committed.offset());
            assertEquals("checkpoint", committed.metadata());
            assertEquals(17L, c.position(p2) >= 0 ? admin.listConsumerGroupOffsets("solo")
                    .partitionsToOffsetAndMetadata().get().get(p2).offset() : -1L);

            ConsumerGroupDescription d = describe("solo");
            assertEquals(GroupState.STABLE, d.groupState());
            assertEquals(1, d.members().size());
            assertEquals(all("events", 4), d.members().iterator().next().assignment().topicPartitions());
            assertTrue(d.partitionAssignor() != null && !d.partitionAssignor().isEmpty(), d.partitionAssignor());
        }
        // closing left the group: it is empty but keeps its offsets
        assertEquals(GroupState.EMPTY, describe("solo").groupState());
        assertEquals(17L, admin.listConsumerGroupOffsets("solo").partitionsToOffsetAndMetadata().get()
                .get(new TopicPartition("events", 2)).offset());
    }

    @Test
    void theGroupRebalancesWhenASecondConsumerJoinsAndWhenItLeaves() throws Exception {
        try (KafkaConsumer<String, String> a = consumer("pair", Map.of());
             KafkaConsumer<String, String> b = consumer("pair", Map.of())) {
            a.subscribe(List.of("events"));
            pollUntil(() -> a.assignment().size() == 4, "first consumer's assignment", a);
            b.subscribe(List.of("events"));
            pollUntil(() -> a.assignment().size() == 2 && b.assignment().size() == 2, "a split between two", a, b);
            Set<TopicPartition> union = new HashSet<>(a.assignment());
            union.addAll(b.assignment());
            assertEquals(all("events", 4), union, "every partition assigned exactly once");
            assertEquals(2, describe("pair").members().size());

            b.close();
            pollUntil(() -> a.assignment().size() == 4, "the survivor takes every partition", a);
            assertEquals(1, describe("pair").members().size());
        }
    }

    @Test
    void cooperativeStickyConsumersRebalanceIncrementally() throws Exception {
        Map<String, Object> cooperative = Map.of(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
        try (KafkaConsumer<String, String> a = consumer("cooperative", cooperative);
             KafkaConsumer<String, String> b = consumer("cooperative", cooperative)) {
            a.subscribe(List.of("events"));
            pollUntil(() -> a.assignment().size() == 4, "the first member's assignment", a);
            Set<TopicPartition> before = Set.copyOf(a.assignment());
            b.subscribe(List.of("events"));
            // cooperative: a gives up two partitions in a first rebalance, b gets them in a second
            pollUntil(() -> a.assignment().size() == 2 && b.assignment().size() == 2, "an incremental split", a, b);
            assertTrue(before.containsAll(a.assignment()), "a kept partitions it owned");
            Set<TopicPartition> union = new HashSet<>(a.assignment());
            union.addAll(b.assignment());
            assertEquals(all("events", 4), union);
            ConsumerGroupDescription d = describe("cooperative");
            assertEquals("cooperative-sticky", d.partitionAssignor());
            assertEquals(2, d.members().size());
        }
    }

    @Test
    void aSilentMemberIsExpelledAfterItsSessionTimeout() throws Exception {
        // a static member does not leave the group on close: the broker must notice its silence
        KafkaConsumer<String, String> silent = consumer("expiry", Map.of(
                ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "silent-1",
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "1500",
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300"));
        try (KafkaConsumer<String, String> live = consumer("expiry", Map.of(
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000",
                ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300"))) {
            silent.subscribe(List.of("events"));
            live.subscribe(List.of("events"));
            pollUntil(() -> silent.assignment().size() == 2 && live.assignment().size() == 2, "two members", silent, live);
            assertEquals(2, describe("expiry").members().size());
            silent.close(Duration.ofSeconds(5));
            pollUntil(() -> live.assignment().size() == 4, "the silent member's partitions to move", live);
            ConsumerGroupDescription d = describe("expiry");
            assertEquals(1, d.members().size());
            assertFalse(d.members().iterator().next().groupInstanceId().isPresent());
        }
    }

    @Test
    void aRestartedStaticMemberGetsItsPartitionsBackWithoutARebalance() throws Exception {
        java.util.concurrent.atomic.AtomicInteger rebalances = new java.util.concurrent.atomic.AtomicInteger();
        Map<String, Object> staticMember = Map.of(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "static-1",
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
        try (KafkaConsumer<String, String> other = consumer("static", Map.of())) {
            KafkaConsumer<String, String> first = consumer("static", staticMember);
            first.subscribe(List.of("events"));
            other.subscribe(List.of("events"), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
                    rebalances.incrementAndGet();
                }
            });
            pollUntil(() -> first.assignment().size() == 2 && other.assignment().size() == 2, "two members", first, other);
            Set<TopicPartition> owned = Set.copyOf(first.assignment());
            int seen = rebalances.get();
            first.close(); // a static member does not leave: its place is kept for its session timeout

            try (KafkaConsumer<String, String> restarted = consumer("static", staticMember)) {
                restarted.subscribe(List.of("events"));
                pollUntil(() -> restarted.assignment().size() == 2, "the restarted instance's assignment", restarted, other);
                assertEquals(owned, restarted.assignment(), "the same partitions, by instance id");
                for (int i = 0; i < 10; i++) other.poll(Duration.ofMillis(50));
                assertEquals(seen, rebalances.get(), "the other member never rebalanced");
                assertEquals(2, describe("static").members().size());
            }
        }
    }

    @Test
    void adminListsDescribesAltersAndDeletesGroups() throws Exception {
        try (KafkaConsumer<String, String> c = consumer("admin-live", Map.of())) {
            c.subscribe(List.of("events"));
            pollUntil(() -> c.assignment().size() == 4, "assignment", c);

            Map<String, ConsumerGroupListing> listed = new java.util.HashMap<>();
            for (ConsumerGroupListing l : admin.listConsumerGroups().all().get()) listed.put(l.groupId(), l);
            assertTrue(listed.containsKey("admin-live"), listed.toString());
            assertEquals(GroupState.STABLE, listed.get("admin-live").groupState().orElseThrow());

            // a group with members can't be deleted, nor its offsets altered by an outsider
            ExecutionException notEmpty = assertThrows(ExecutionException.class,
                    () -> admin.deleteConsumerGroups(List.of("admin-live")).all().get());
            assertInstanceOf(GroupNotEmptyException.class, notEmpty.getCause());
        }
        TopicPartition p0 = new TopicPartition("events", 0);
        TopicPartition o0 = new TopicPartition("other", 0);
        admin.alterConsumerGroupOffsets("admin-live", Map.of(p0, new OffsetAndMetadata(5L), o0,
                new OffsetAndMetadata(9L))).all().get();
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("admin-live")
                .partitionsToOffsetAndMetadata().get();
        assertEquals(5L, offsets.get(p0).offset());
        assertEquals(9L, offsets.get(o0).offset());

        admin.deleteConsumerGroupOffsets("admin-live", Set.of(o0)).all().get();
        assertFalse(admin.listConsumerGroupOffsets("admin-live").partitionsToOffsetAndMetadata().get().containsKey(o0));

        // a group that only has offsets (alterConsumerGroupOffsets created it) is listed as Empty
        admin.alterConsumerGroupOffsets("offsets-only", Map.of(p0, new OffsetAndMetadata(1L))).all().get();
        Set<String> empty = new HashSet<>();
        for (ConsumerGroupListing l : admin.listConsumerGroups(new org.apache.kafka.clients.admin.ListConsumerGroupsOptions()
                .inGroupStates(Set.of(GroupState.EMPTY))).all().get()) {
            empty.add(l.groupId());
        }
        assertTrue(empty.containsAll(Set.of("admin-live", "offsets-only")), empty.toString());

        admin.deleteConsumerGroups(List.of("admin-live", "offsets-only")).all().get();
        List<String> after = new ArrayList<>();
        for (ConsumerGroupListing l : admin.listConsumerGroups().all().get()) after.add(l.groupId());
        assertFalse(after.contains("admin-live"), after.toString());
        assertFalse(after.contains("offsets-only"), after.toString());
        assertTrue(admin.listConsumerGroupOffsets("admin-live").partitionsToOffsetAndMetadata().get().isEmpty());
    }

    private static KafkaProducer<String, String> transactional(String id) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    @Test
    void aTransactionalProducerCommitsAbortsAndIsFencedByItsSuccessor() throws Exception {
        try (KafkaProducer<String, String> first = transactional("tx-1")) {
            first.initTransactions();
            first.beginTransaction();
            first.send(new ProducerRecord<>("events", 0, "k", "committed")).get();
            first.commitTransaction();

            first.beginTransaction();
            first.send(new ProducerRecord<>("events", 1, "k", "aborted")).get();
            first.abortTransaction();

            first.beginTransaction();
            first.send(new ProducerRecord<>("events", 2, "k", "open")).get();
            var described = admin.describeTransactions(List.of("tx-1")).all().get().get("tx-1");
            assertEquals(org.apache.kafka.clients.admin.TransactionState.ONGOING, described.state());
            assertTrue(described.topicPartitions().contains(new TopicPartition("events", 2)), described.toString());
            List<String> ids = new ArrayList<>();
            for (TransactionListing l : admin.listTransactions().all().get()) ids.add(l.transactionalId());
            assertTrue(ids.contains("tx-1"), ids.toString());

            try (KafkaProducer<String, String> second = transactional("tx-1")) {
                second.initTransactions(); // bumps the epoch, aborting the open transaction
                assertThrows(ProducerFencedException.class, first::commitTransaction);
                second.beginTransaction();
                second.send(new ProducerRecord<>("events", 3, "k", "v")).get();
                second.commitTransaction();
            }
        }
    }

    @Test
    void aTransactionTimeoutAboveTheBrokersMaximumIsRefused() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "too-patient");
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "900001"); // transaction.max.timeout.ms is 900000
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            // the client reports INVALID_TRANSACTION_TIMEOUT as a fatal KafkaException naming the broker's limit
            org.apache.kafka.common.KafkaException e = assertThrows(org.apache.kafka.common.KafkaException.class,
                    producer::initTransactions);
            assertTrue(e instanceof org.apache.kafka.common.errors.InvalidTxnTimeoutException
                    || String.valueOf(e.getMessage()).contains("transaction.max.timeout.ms"), e.toString());
        }
    }

    @Test
    void adminDescribesProducersAndFiltersTransactions() throws Exception {
        admin.createTopics(List.of(new NewTopic("producers", 1, (short) 1))).all().get();
        TopicPartition tp = new TopicPartition("producers", 0);
        try (KafkaProducer<String, String> producer = transactional("described-tx")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("producers", 0, "k", "v")).get();

            var described = admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
            assertEquals(1, described.size(), described.toString());
            long producerId = described.getFirst().producerId();
            assertTrue(described.getFirst().currentTransactionStartOffset().isPresent(), "inside a transaction");

            var ongoing = admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                    .filterStates(List.of(org.apache.kafka.clients.admin.TransactionState.ONGOING))).all().get();
            assertTrue(ongoing.stream().anyMatch(l -> l.transactionalId().equals("described-tx")
                    && l.producerId() == producerId), ongoing.toString());
            var byOtherProducer = admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                    .filterProducerIds(java.util.Set.of(producerId + 1000))).all().get();
            assertTrue(byOtherProducer.stream().noneMatch(l -> l.transactionalId().equals("described-tx")));
            producer.commitTransaction();

            var committed = admin.listTransactions(new org.apache.kafka.clients.admin.ListTransactionsOptions()
                    .filterStates(List.of(org.apache.kafka.clients.admin.TransactionState.ONGOING))).all().get();
            assertTrue(committed.stream().noneMatch(l -> l.transactionalId().equals("described-tx")), committed.toString());
            ExecutionException unknown = assertThrows(ExecutionException.class,
                    () -> admin.describeTransactions(List.of("never-used")).all().get());
            assertInstanceOf(org.apache.kafka.common.errors.TransactionalIdNotFoundException.class, unknown.getCause());
        }
    }

    @Test
    void aTransactionOpenLongerThanItsTimeoutIsAbortedByTheBroker() throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "slow-tx");
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "1000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("events", 0, "k", "v")).get();
            waitFor(() -> {
                try {
                    return admin.describeTransactions(List.of("slow-tx")).all().get().get("slow-tx").state()
                            == org.apache.kafka.clients.admin.TransactionState.COMPLETE_ABORT;
                } catch (Exception e) {
                    return false;
                }
            }, "the broker's maintenance timer to abort the transaction");
            // the producer was fenced by the abort's epoch bump
            org.apache.kafka.common.KafkaException late = assertThrows(org.apache.kafka.common.KafkaException.class,
                    producer::commitTransaction);
            assertTrue(late instanceof ProducerFencedException
                    || late instanceof org.apache.kafka.common.errors.InvalidProducerEpochException
                    || late.getCause() instanceof org.apache.kafka.common.errors.InvalidProducerEpochException, late.toString());
        }
    }

    @Test
    void offsetsSentToATransactionAreCommittedWithIt() throws Exception {
        TopicPartition p1 = new TopicPartition("events", 1);
        try (KafkaProducer<String, String> producer = transactional("ctp")) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("other", 0, "k", "v")).get();
            producer.sendOffsetsToTransaction(Map.of(p1, new OffsetAndMetadata(41L)), new ConsumerGroupMetadata("ctp-group"));
            producer.commitTransaction();

            producer.beginTransaction();
            producer.sendOffsetsToTransaction(Map.of(p1, new OffsetAndMetadata(99L)), new ConsumerGroupMetadata("ctp-group"));
            producer.abortTransaction();
        }
        waitFor(() -> {
            try {
                OffsetAndMetadata o = admin.listConsumerGroupOffsets("ctp-group").partitionsToOffsetAndMetadata().get().get(p1);
                return o != null && o.offset() == 41L;
            } catch (Exception e) {
                return false;
            }
        }, "the committed transaction's offset (and not the aborted one)");
        assertEquals(41L, admin.listConsumerGroupOffsets("ctp-group").partitionsToOffsetAndMetadata().get().get(p1).offset());
    }
}
