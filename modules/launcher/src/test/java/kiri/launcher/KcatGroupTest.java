package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.GroupState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * librdkafka (kcat -G, a balanced consumer) joins a group: it speaks older versions of the group APIs
 * than kafka-clients 4.1 does. On null:// nothing is consumed; this is about membership.
 */
class KcatGroupTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("kiri.group.initial.rebalance.delay.ms", "0");
        broker = InProcessBroker.start("null://");
        bootstrap = InProcessBroker.bootstrap(broker);
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
        System.clearProperty("kiri.group.initial.rebalance.delay.ms");
    }

    private static ConsumerGroupDescription describe(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get().get(group);
    }

    @Test
    void kcatJoinsABalancedGroupAndLeavesItOnTermination() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic("kcat-group", 3, (short) 1))).all().get();
            Process kcat;
            try {
                kcat = new ProcessBuilder("kcat", "-b", bootstrap, "-G", "kcat-consumers", "kcat-group")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            } catch (IOException e) {
                throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
            }
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                ConsumerGroupDescription d = describe(admin, "kcat-consumers");
                while (d.groupState() != GroupState.STABLE) {
                    assertTrue(kcat.isAlive(), "kcat exited early");
                    if (System.nanoTime() > deadline) throw new AssertionError("kcat never joined: " + d);
                    Thread.sleep(100);
                    d = describe(admin, "kcat-consumers");
                }
                assertEquals(1, d.members().size());
                MemberDescription m = d.members().iterator().next();
                assertEquals(3, m.assignment().topicPartitions().size(), m.toString());
            } finally {
                kcat.destroy(); // SIGTERM: librdkafka leaves the group as it closes
                assertTrue(kcat.waitFor(30, TimeUnit.SECONDS), "kcat exits on SIGTERM");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (describe(admin, "kcat-consumers").groupState() != GroupState.EMPTY) {
                if (System.nanoTime() > deadline) throw new AssertionError("kcat's member never left");
                Thread.sleep(100);
            }
        }
    }
}
