package kiri.launcher;

import static kiri.launcher.CliRun.assertOk;
import static kiri.launcher.CliRun.assertOneLineError;
import static kiri.launcher.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code kiri group ...} as a user runs it, against offsets and members made by kafka-clients. */
class GroupCommandTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        ListenerUrl any = new ListenerUrl("127.0.0.1", 0);
        broker = Broker.start(new Broker.Settings(any, any, "memory://", null, 0, true, 1, 0));
        bootstrap = "127.0.0.1:" + broker.localAddress().getPort();
        assertEquals(0, run("topic", "create", "orders", "--partitions", "2", "-b", bootstrap).exit());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props(), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int p = 0; p < 2; p++) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>("orders", p, null, new byte[10])).get();
                }
            }
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void describeShowsCommittedEndAndLag() throws Exception {
        commit("lagging", Map.of(0, 3L, 1, 7L));
        CliRun list = run("group", "list", "-b", bootstrap, "--state");
        assertOk(list);
        assertTrue(list.out().lines().anyMatch(l -> l.matches("lagging\\s+Empty")), list.out());
        CliRun r = run("group", "describe", "--group", "lagging", "-b", bootstrap);
        assertOk(r);
        assertTrue(r.out().contains("Consumer group 'lagging' has no active members."), r.out());
        assertEquals(List.of("3 10 7", "7 10 3"), rows(r.out(), "lagging"));
    }

    @Test
    void resetIsADryRunUnlessExecuted() throws Exception {
        commit("resetting", Map.of(0, 4L, 1, 4L));
        CliRun dry = run("group", "reset-offsets", "--group", "resetting", "--topic", "orders", "--to-earliest", "-b", bootstrap);
        assertOk(dry);
        assertTrue(dry.out().contains("NEW-OFFSET"), dry.out());
        assertEquals(Map.of(0, 4L, 1, 4L), committed("resetting"));

        assertOk(run("group", "reset-offsets", "--group", "resetting", "--topic", "orders", "--to-offset", "6", "--execute", "-b", bootstrap));
        assertEquals(Map.of(0, 6L, 1, 6L), committed("resetting"));
        // beyond the end is clamped to it, as Kafka does
        assertOk(run("group", "reset-offsets", "--group", "resetting", "--topic", "orders:1", "--to-offset", "99", "--execute", "-b", bootstrap));
        assertEquals(Map.of(0, 6L, 1, 10L), committed("resetting"));
        assertOk(run("group", "reset-offsets", "--group", "resetting", "--all-topics", "--to-earliest", "--execute", "-b", bootstrap));
        assertEquals(Map.of(0, 0L, 1, 0L), committed("resetting"));
        assertOk(run("group", "reset-offsets", "--group", "resetting", "--all-topics", "--to-latest", "--execute", "-b", bootstrap));
        assertEquals(Map.of(0, 10L, 1, 10L), committed("resetting"));
        assertOk(run("group", "reset-offsets", "--group", "resetting", "--all-topics", "--to-datetime", "2000-01-01T00:00:00.000Z", "--execute", "-b", bootstrap));
        assertEquals(Map.of(0, 0L, 1, 0L), committed("resetting"));
        // no record that recent: the end
        assertOk(run("group", "reset-offsets", "--group", "resetting", "--all-topics", "--to-datetime", "2999-01-01T00:00:00", "--execute", "-b", bootstrap));
        assertEquals(Map.of(0, 10L, 1, 10L), committed("resetting"));
    }

    @Test
    void activeGroupIsNeitherResetNorDeleted() throws Exception {
        Properties p = props();
        p.put("group.id", "active");
        p.put("auto.offset.reset", "earliest");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of("orders"));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (consumer.assignment().size() < 2 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100));
            }
            consumer.commitSync();
            CliRun d = run("group", "describe", "--group", "active", "-b", bootstrap);
            assertOk(d);
            assertTrue(d.out().contains("consumer-active-"), "the member's client id: " + d.out());
            assertOneLineError(run("group", "reset-offsets", "--group", "active", "--all-topics", "--to-earliest", "-b", bootstrap),
                    "inactive, but the current state is Stable");
            assertOneLineError(run("group", "delete", "--group", "active", "-b", bootstrap), "NON_EMPTY_GROUP");
        }
        CliRun deleted = run("group", "delete", "--group", "active", "-b", bootstrap);
        assertOk(deleted);
        assertTrue(deleted.out().contains("Deletion of requested consumer groups ('active') was successful."), deleted.out());
        assertOneLineError(run("group", "describe", "--group", "active", "-b", bootstrap), "does not exist");
        assertFalse(run("group", "list", "-b", bootstrap).out().lines().anyMatch("active"::equals));
    }

    @Test
    void badInputIsOneLine() {
        assertOneLineError(run("group", "reset-offsets", "--group", "x", "--to-earliest", "-b", bootstrap), "--all-topics");
        assertOneLineError(run("group", "reset-offsets", "--group", "x", "--topic", "orders", "--to-datetime", "yesterday", "-b", bootstrap),
                "--to-datetime 'yesterday'");
        assertOneLineError(run("group", "reset-offsets", "--group", "x", "--topic", "orders:7", "--to-earliest", "-b", bootstrap),
                "orders-7 does not exist");
        assertOneLineError(run("group", "delete", "--group", "never-was", "-b", bootstrap), "GROUP_ID_NOT_FOUND");
        assertEquals(2, run("group", "reset-offsets", "--group", "x", "--topic", "orders", "--to-earliest", "--to-latest", "-b", bootstrap).exit());
    }

    /** "CURRENT END LAG" of each row of {@code group} in a describe table. */
    private static List<String> rows(String table, String group) {
        Pattern row = Pattern.compile("^" + group + "\\s+orders\\s+(\\d+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)", Pattern.MULTILINE);
        Matcher m = row.matcher(table);
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group(2) + " " + m.group(3) + " " + m.group(4));
        }
        return out;
    }

    private static void commit(String group, Map<Integer, Long> offsets) {
        Properties p = props();
        p.put("group.id", group);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            Map<TopicPartition, OffsetAndMetadata> commits = new java.util.HashMap<>();
            offsets.forEach((part, o) -> commits.put(new TopicPartition("orders", part), new OffsetAndMetadata(o)));
            c.commitSync(commits);
        }
    }

    private static Map<Integer, Long> committed(String group) {
        Properties p = props();
        p.put("group.id", group);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            Map<Integer, Long> out = new java.util.TreeMap<>();
            c.committed(Set.of(new TopicPartition("orders", 0), new TopicPartition("orders", 1)))
                    .forEach((tp, o) -> out.put(tp.partition(), o == null ? -1 : o.offset()));
            return out;
        }
    }

    private static Properties props() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        return p;
    }



}
