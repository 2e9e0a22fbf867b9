package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apache Kafka's own command-line tools (kafka-tools 4.1.1: what kafka-topics.sh, kafka-console-producer.sh,
 * kafka-console-consumer.sh, kafka-get-offsets.sh, kafka-log-dirs.sh, kafka-delete-records.sh,
 * kafka-groups.sh, kafka-cluster.sh, kafka-transactions.sh, kafka-acls.sh and kafka-broker-api-versions.sh
 * run), each as its own JVM (they call System.exit) against a broker on durable storage.
 */
class KafkaCliToolsTest {
    private static Broker broker;
    private static String bootstrap;
    @TempDir
    static Path dir;

    private record Run(int exit, String out) {
    }

    @BeforeAll
    static void start() throws Exception {
        ListenerUrl loopback = new ListenerUrl("127.0.0.1", 0);
        broker = Broker.start(new Broker.Settings(loopback, loopback, "file:" + dir.resolve("data"), null, 0, true, 1, 0));
        bootstrap = InProcessBroker.bootstrap(broker);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    /** Runs {@code org.apache.kafka.tools.<tool>} with this test's class path; stdout and stderr together. */
    private static Run tool(String stdin, String tool, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.apache.kafka.tools." + tool));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), tool + " finished");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String ok(String stdin, String tool, String... args) throws IOException, InterruptedException {
        Run r = tool(stdin, tool, args);
        assertEquals(0, r.exit(), tool + " " + List.of(args) + ":\n" + r.out());
        return r.out();
    }

    @Test
    void topicsProduceConsumeOffsetsAndRecordsLikeAKafkaUser() throws Exception {
        assertTrue(ok("", "TopicCommand", "--bootstrap-server", bootstrap, "--create", "--topic", "cli", "--partitions", "3",
                "--replication-factor", "1", "--config", "retention.ms=86400000").contains("Created topic cli."));
        ok("", "TopicCommand", "--bootstrap-server", bootstrap, "--alter", "--topic", "cli", "--partitions", "4");
        String described = ok("", "TopicCommand", "--bootstrap-server", bootstrap, "--describe", "--topic", "cli");
        assertTrue(described.contains("PartitionCount: 4") && described.contains("retention.ms=86400000")
                && described.contains("Partition: 3\tLeader: 0"), described);
        assertTrue(ok("", "TopicCommand", "--bootstrap-server", bootstrap, "--list").lines().anyMatch("cli"::equals));

        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            lines.append("key-").append(i).append(':').append("value-").append(i).append('\n');
        }
        ok(lines.toString(), "ConsoleProducer", "--bootstrap-server", bootstrap, "--topic", "cli",
                "--property", "parse.key=true", "--property", "key.separator=:");
        String consumed = ok("", "consumer.ConsoleConsumer", "--bootstrap-server", bootstrap, "--topic", "cli",
                "--from-beginning", "--max-messages", "50", "--property", "print.key=true", "--group", "cli-group");
        for (int i = 0; i < 50; i++) {
            assertTrue(consumed.contains("key-" + i + "\tvalue-" + i + "\n"), "record " + i + " in:\n" + consumed);
        }
        assertTrue(consumed.contains("Processed a total of 50 messages"), consumed);

        long total = ok("", "GetOffsetShell", "--bootstrap-server", bootstrap, "--topic", "cli").lines()
                .filter(l -> l.startsWith("cli:")).mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(':') + 1))).sum();
        assertEquals(50, total);

        String dirs = ok("", "LogDirsCommand", "--bootstrap-server", bootstrap, "--describe", "--topic-list", "cli");
        assertTrue(dirs.contains("\"partition\":\"cli-3\"") && dirs.contains("\"logDir\":\"file:"), dirs);

        Path offsets = Files.writeString(dir.resolve("delete.json"),
                "{\"partitions\":[{\"topic\":\"cli\",\"partition\":0,\"offset\":1}],\"version\":1}");
        String deleted = ok("", "DeleteRecordsCommand", "--bootstrap-server", bootstrap, "--offset-json-file", offsets.toString());
        assertTrue(deleted.contains("partition: cli-0\tlow_watermark: 1"), deleted);

        String groups = ok("", "GroupsCommand", "--bootstrap-server", bootstrap, "--list");
        assertTrue(groups.lines().anyMatch(l -> l.startsWith("cli-group") && l.contains("Classic")), groups);

        ok("", "TopicCommand", "--bootstrap-server", bootstrap, "--delete", "--topic", "cli");
        assertTrue(ok("", "TopicCommand", "--bootstrap-server", bootstrap, "--list").lines().noneMatch("cli"::equals));
    }

    @Test
    void brokerConfigsDescribeAllShowsEffectiveSettingsWithSources() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "kafka.admin.ConfigCommand", "--bootstrap-server", bootstrap,
                "--entity-type", "brokers", "--entity-name", "0", "--describe", "--all"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("All configs for broker 0 are:"), out);
        // num.partitions as started (1, Kafka's default) and the advertised address (always set by the broker)
        assertTrue(out.contains("num.partitions=1 sensitive=false synonyms={DEFAULT_CONFIG:num.partitions=1}"), out);
        assertTrue(out.contains("advertised.listeners=PLAINTEXT://127.0.0.1:" + broker.localAddress().getPort()
                + " sensitive=false synonyms={STATIC_BROKER_CONFIG:advertised.listeners="), out);
        assertTrue(out.contains("log.retention.ms=604800000 sensitive=false synonyms={DEFAULT_CONFIG:log.retention.ms=604800000}"), out);
        assertTrue(out.contains("node.id=0 sensitive=false synonyms={STATIC_BROKER_CONFIG:node.id=0}"), out);
    }

    @Test
    void clusterTransactionsAclsAndApiVersions() throws Exception {
        assertTrue(ok("", "ClusterTool", "cluster-id", "--bootstrap-server", bootstrap)
                .contains("Cluster ID: " + broker.storage().clusterId()));
        assertTrue(ok("", "TransactionsCommand", "--bootstrap-server", bootstrap, "list").contains("TransactionalId"));
        Run acls = tool("", "AclCommand", "--bootstrap-server", bootstrap, "--list");
        assertTrue(acls.out().contains("SecurityDisabledException: No Authorizer is configured."), acls.out());
        String versions = ok("", "BrokerApiVersionsCommand", "--bootstrap-server", bootstrap);
        assertTrue(versions.contains("Produce(0): 0 to 13 [usable: 13]") && versions.contains("Fetch(1): 4 to 18"), versions);
    }
}
