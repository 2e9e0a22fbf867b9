package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** librdkafka's kcat as an external process (.ci/run installs the Debian package). */
class KcatTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = InProcessBroker.start("null://");
        bootstrap = InProcessBroker.bootstrap(broker);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static String kcat(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("kcat", "-b", bootstrap));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kcat finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void metadataListsBrokerAndTopics() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("kcat-meta", 4, (short) 1)))
                    .all().get();
        }
        String out = kcat("", "-L");
        assertTrue(out.contains("1 brokers:"), out);
        assertTrue(out.contains("broker 0 at 127.0.0.1:" + broker.localAddress().getPort()), out);
        assertTrue(out.contains("topic \"kcat-meta\" with 4 partitions"), out);
    }

    @Test
    void produceFromStdinIsAcknowledged() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            lines.append("message-").append(i).append('\n');
        }
        kcat(lines.toString(), "-P", "-t", "kcat-produce", "-p", "0");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            TopicPartition tp = new TopicPartition("kcat-produce", 0);
            long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset();
            assertEquals(1000, end, "every line became a record");
        }
    }
}
