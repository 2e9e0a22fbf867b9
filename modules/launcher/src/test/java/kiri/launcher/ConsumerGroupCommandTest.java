package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.tools.consumer.group.ConsumerGroupCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Kafka's kafka-consumer-groups tool (ConsumerGroupCommand from kafka-tools), in-process, against the broker. */
class ConsumerGroupCommandTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("kiri.group.initial.rebalance.delay.ms", "0");
        broker = InProcessBroker.start("null://");
        bootstrap = InProcessBroker.bootstrap(broker);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic("clicks", 2, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
        System.clearProperty("kiri.group.initial.rebalance.delay.ms");
    }

    /** Runs the tool and returns what it printed (it prints results and errors to stdout). */
    private static String run(String... args) {
        return GroupTestBroker.consumerGroupCommand(bootstrap, args);
    }

    @Test
    void listsAndDescribesAGroupWithAMember() {
        Properties p = GroupTestBroker.stringConsumer(bootstrap, "dashboard");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "dashboard-client");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of("clicks"));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (c.assignment().size() < 2) {
                if (System.nanoTime() > deadline) throw new AssertionError("no assignment");
                c.poll(Duration.ofMillis(50));
            }
            c.commitSync(Map.of(new TopicPartition("clicks", 1), new OffsetAndMetadata(0L)));

            String list = run("--list");
            assertTrue(list.lines().anyMatch("dashboard"::equals), list);

            String listed = run("--list", "--state");
            assertTrue(listed.lines().anyMatch(l -> l.startsWith("dashboard") && l.contains("Stable")), listed);

            String offsets = run("--describe", "--group", "dashboard");
            assertFalse(offsets.contains("Error"), offsets);
            assertTrue(offsets.lines().anyMatch(l -> l.startsWith("dashboard") && l.contains("clicks")
                    && l.contains("dashboard-client")), offsets);

            String members = run("--describe", "--group", "dashboard", "--members");
            assertTrue(members.lines().anyMatch(l -> l.startsWith("dashboard") && l.contains("dashboard-client")), members);

            String state = run("--describe", "--group", "dashboard", "--state");
            assertTrue(state.lines().anyMatch(l -> l.startsWith("dashboard") && l.contains("Stable") && l.contains("range")),
                    state);
        }
        // DescribeGroups v6 answers GROUP_ID_NOT_FOUND (KIP-1043), which the tool reports as an error line
        String missing = run("--describe", "--group", "no-such-group");
        assertTrue(missing.contains("Group no-such-group not found") || missing.contains("does not exist"), missing);
    }
}
