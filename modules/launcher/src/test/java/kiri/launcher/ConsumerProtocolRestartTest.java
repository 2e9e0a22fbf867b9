package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code group.protocol=consumer} KafkaConsumer across a broker restart on the durable file: engine:
 * the group's members, epochs and assignments are stored, so the member carries on with its epoch (its
 * commits keep working), consumes only the new records, and the group is still a consumer group.
 */
class ConsumerProtocolRestartTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void shortHeartbeats() {
        System.setProperty("kiri.group.consumer.heartbeat.interval.ms", "500");
    }

    @AfterAll
    static void clear() {
        System.clearProperty("kiri.group.consumer.heartbeat.interval.ms");
    }

    private static void produce(String bootstrap, String topic, int from, int to) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = from; i < to; i++) producer.send(new ProducerRecord<>(topic, i % 2, null, Integer.toString(i)));
            producer.flush();
        }
    }

    /** Polls and commits until {@code n} records came; returns their values. */
    private static List<String> consume(KafkaConsumer<String, String> c, int n) {
        List<String> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (out.size() < n) {
            if (System.nanoTime() > deadline) throw new AssertionError("only " + out.size() + " of " + n + " records");
            List<String> batch = new ArrayList<>();
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) batch.add(r.value());
            if (batch.isEmpty()) continue;
            c.commitSync(); // the restarted coordinator knows the member: no CommitFailedException
            out.addAll(batch);
        }
        return out;
    }

    @Test
    void aMemberRejoinsAfterARestartAndContinuesFromItsCommittedOffsets() throws Exception {
        String storage = "file:" + dir.resolve("data");
        String topic = "kip848-restart";
        Broker first = InProcessBroker.start(storage);
        int port = first.localAddress().getPort();
        String bootstrap = "127.0.0.1:" + port;
        Properties p = GroupTestBroker.stringConsumer(bootstrap, "kip848-restart-group");
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        Broker second = null;
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            }
            produce(bootstrap, topic, 0, 100);
            c.subscribe(List.of(topic));
            List<String> before = consume(c, 100);
            assertEquals(100, before.size());

            first.close();
            second = InProcessBroker.start(storage, port);
            produce(bootstrap, topic, 100, 200);
            List<String> after = consume(c, 100);
            List<String> expected = new ArrayList<>();
            for (int i = 100; i < 200; i++) expected.add(Integer.toString(i));
            assertEquals(new java.util.TreeSet<>(expected), new java.util.TreeSet<>(after), "only the new records");
            assertEquals(100, after.size(), "none twice");
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                GroupListing l = admin.listGroups().all().get().stream()
                        .filter(g -> g.groupId().equals("kip848-restart-group")).findFirst().orElseThrow();
                assertEquals(GroupType.CONSUMER, l.type().orElseThrow());
            }
        } finally {
            if (second != null) second.close();
            else first.close();
        }
    }
}
