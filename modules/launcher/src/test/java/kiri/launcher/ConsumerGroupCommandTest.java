package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
import org.apache.kafka.common.serialization.StringDeserializer;
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
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)); // its stack traces
        try {
            String[] all = new String[args.length + 2];
            all[0] = "--bootstrap-server";
            all[1] = bootstrap;
            System.arraycopy(args, 0, all, 2, args.length);
            ConsumerGroupCommand.main(all);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        System.out.println(text);
        return text;
    }

    @Test
    void listsAndDescribesAGroupWithAMember() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "dashboard");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "dashboard-client");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
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
