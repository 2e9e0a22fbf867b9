package kiri.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import kiri.testsupport.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Transactions across brokers: three brokers in this JVM over one PostgreSQL; a consume-transform-produce loop
 * whose input partition, output partition and transaction coordinator are on three different brokers, with every
 * third transaction aborted after its records reached the log. Downstream, read_committed sees exactly the
 * transformed input, once, in order, and the group's committed offset is the input's end.
 */
class PgTransactionsClusterTest {
    private static final int INPUT = 300;
    private static final String GROUP = "ctp";

    @RegisterExtension
    final PgBrokers cluster = new PgBrokers(3, "");

    private String bootstrap() {
        return cluster.bootstrap();
    }

    @Test
    void consumeTransformProduceAcrossBrokersSeesExactlyTheCommittedInput() throws Exception {
        TopicPartition in;
        TopicPartition out;
        int coordinator;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            Wait.until("three live brokers", () -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic("in", 3, (short) 1), new NewTopic("out", 3, (short) 1))).all().get(60, TimeUnit.SECONDS);
            List<Integer> inLeaders = spreadLeaders(admin, "in");
            List<Integer> outLeaders = spreadLeaders(admin, "out");
            in = new TopicPartition("in", 0);
            int po = outLeaders.get(0).equals(inLeaders.get(0)) ? 1 : 0;
            out = new TopicPartition("out", po);
            assertNotEquals(inLeaders.get(0), outLeaders.get(po), "input and output on different brokers");
            Set<Integer> third = new HashSet<>(Set.of(1, 2, 3));
            third.remove(inLeaders.get(0));
            third.remove(outLeaders.get(po));
            coordinator = third.iterator().next();
        }
        // the engine places a transactional id on the live broker at hash(id) mod live (node-id order); checked below
        String txnId = transactionalIdOn(coordinator);

        List<String> input = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps())) {
            for (int i = 0; i < INPUT; i++) {
                input.add("v" + i);
                producer.send(new ProducerRecord<>(in.topic(), in.partition(), "k" + i, "v" + i));
            }
            producer.flush();
        }

        // downstream reads while the loop runs: the output's leader learns of each commit and abort (markers written
        // by the coordinator's broker) through PostgreSQL, and its last stable offset and aborted ranges must follow
        List<String> expected = input.stream().map(PgTransactionsClusterTest::transform).toList();
        ExecutorService downstream = Executors.newSingleThreadExecutor();
        try {
            Future<List<String>> live = downstream.submit(() -> readCommitted(out, INPUT));
            int aborted = transformLoop(in, out, txnId, coordinator);
            assertTrue(aborted > 0, "some transactions were aborted");
            assertEquals(expected, live.get(180, TimeUnit.SECONDS), "read_committed while it ran: exactly the transformed input, once, in order");
        } finally {
            downstream.shutdownNow();
        }
        assertEquals(expected, readAll(out, "read_committed"), "read_committed afterwards: the same");
        List<String> everything = readAll(out, "read_uncommitted");
        assertTrue(everything.size() > INPUT, "the aborted records are in the log (read_uncommitted sees " + everything.size() + ")");
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata()
                    .get(60, TimeUnit.SECONDS);
            assertEquals(INPUT, committed.get(in).offset(), "the group's committed offset is the end of the input");
        }
    }

    /**
     * A second instance of a transactional id fences the first: its InitProducerId aborts the first's open transaction
     * (records already in the output's log, on another broker than the coordinator), the first can no longer commit,
     * and read_committed sees only what the second committed.
     */
    @Test
    void aNewInstanceFencesTheOldOneAndAbortsItsOpenTransaction() throws Exception {
        TopicPartition out;
        int coordinator;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            Wait.until("three live brokers", () -> admin.describeCluster().nodes().get().size() == 3);
            admin.createTopics(List.of(new NewTopic("out", 3, (short) 1))).all().get(60, TimeUnit.SECONDS);
            out = new TopicPartition("out", 0);
            coordinator = spreadLeaders(admin, "out").get(1); // not the output's leader
        }
        String txnId = transactionalIdOn(coordinator);
        Properties tp = producerProps();
        tp.put("transactional.id", txnId);
        try (KafkaProducer<String, String> zombie = new KafkaProducer<>(tp)) {
            zombie.initTransactions();
            zombie.beginTransaction();
            for (int i = 0; i < 10; i++) zombie.send(new ProducerRecord<>(out.topic(), out.partition(), "k", "zombie" + i));
            zombie.flush();
            try (KafkaProducer<String, String> successor = new KafkaProducer<>(tp)) {
                successor.initTransactions(); // aborts the zombie's transaction
                successor.beginTransaction();
                successor.send(new ProducerRecord<>(out.topic(), out.partition(), "k", "kept"));
                successor.commitTransaction();
            }
            assertThrows(KafkaException.class, zombie::commitTransaction, "the zombie is fenced");
        }
        assertEquals(List.of("kept"), readAll(out, "read_committed"));
        assertEquals(11, readAll(out, "read_uncommitted").size(), "the aborted records are in the log");
    }

    /**
     * Reads {@code in} with group {@value #GROUP}, writes each record transformed to {@code out} in a transaction with
     * the consumed offsets; every third transaction is flushed (its records reach the log) and aborted, then redone.
     * Returns how many were aborted.
     */
    private int transformLoop(TopicPartition in, TopicPartition out, String txnId, int coordinator) throws Exception {
        Properties tp = producerProps();
        tp.put("transactional.id", txnId);
        Properties cp = consumerProps("read_committed");
        cp.put("group.id", GROUP);
        cp.put("enable.auto.commit", "false");
        cp.put("max.poll.records", "25");
        int transactions = 0;
        int aborted = 0;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(tp);
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp);
             Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap()))) {
            producer.initTransactions();
            assertEquals(coordinator, admin.describeTransactions(List.of(txnId)).description(txnId).get(60, TimeUnit.SECONDS).coordinatorId(),
                    "the transaction coordinator is on the third broker");
            consumer.subscribe(List.of(in.topic()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            long done = 0;
            while (done < INPUT) {
                assertTrue(System.nanoTime() < deadline, "the loop finished in time: " + done + " of " + INPUT + " committed");
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty()) continue;
                long first = records.records(in).getFirst().offset();
                long next = first;
                producer.beginTransaction();
                for (ConsumerRecord<String, String> r : records.records(in)) {
                    producer.send(new ProducerRecord<>(out.topic(), out.partition(), r.key(), transform(r.value())));
                    next = r.offset() + 1;
                }
                producer.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(next)), consumer.groupMetadata());
                if (transactions++ % 3 == 1) {
                    producer.flush(); // the records are in the output's log before the abort marker
                    producer.abortTransaction();
                    aborted++;
                    consumer.seek(in, first); // redo what the aborted transaction took
                } else {
                    producer.commitTransaction();
                    done = next;
                }
            }
        }
        return aborted;
    }

    /** The first {@code count} records of {@code tp} read with read_committed as they are committed (then a little more: none). */
    private List<String> readCommitted(TopicPartition tp, int count) throws Exception {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps("read_committed"))) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            Wait.until("read_committed consumer of " + tp + " reading " + count + " records", Duration.ofSeconds(170), () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
                return values.size() >= count;
            });
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) values.add(r.value()); // nothing beyond
        }
        return values;
    }

    /** Everything in {@code tp} up to its end at this isolation level. */
    private List<String> readAll(TopicPartition tp, String isolation) throws Exception {
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(isolation))) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp); // the last stable offset for read_committed
            Wait.until("reading " + tp + " (" + isolation + ") to " + end, () -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
                return consumer.position(tp) >= end;
            });
        }
        return values;
    }

    private static String transform(String value) {
        return value.toUpperCase() + "!";
    }

    private static String transactionalIdOn(int node) {
        for (int i = 0; ; i++) {
            String id = "ctp-" + i;
            if (Math.floorMod(id.hashCode(), 3) + 1 == node) return id;
        }
    }

    private Properties producerProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("delivery.timeout.ms", "120000");
        return p;
    }

    private Properties consumerProps(String isolation) {
        Properties p = cluster.consumerProps(null);
        p.put("isolation.level", isolation);
        return p;
    }

    /**
     * Waits until {@code topic}'s partitions are led by all three brokers, as one answer says: the admin asks any
     * broker, and one not yet told of a new topic answers UNKNOWN_TOPIC_OR_PARTITION for a moment.
     */
    private static List<Integer> spreadLeaders(Admin admin, String topic) throws Exception {
        List<List<Integer>> seen = new ArrayList<>(List.of(List.of()));
        Wait.until("leaders of " + topic + " on all three brokers", () -> {
            seen.set(0, leaders(admin, topic));
            return !seen.get(0).contains(-1) && new HashSet<>(seen.get(0)).size() == 3;
        });
        return seen.get(0);
    }

    /** The leader of each partition of {@code topic}, by partition (-1 for none). */
    private static List<Integer> leaders(Admin admin, String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(60, TimeUnit.SECONDS).get(topic);
        List<Integer> out = new ArrayList<>();
        d.partitions().forEach(p -> out.add(p.leader() == null ? -1 : p.leader().id()));
        return out;
    }
}
