package kiri.launcher;

import static kiri.launcher.CliRun.assertOk;
import static kiri.launcher.CliRun.assertOneLineError;
import static kiri.launcher.CliRun.run;
import static kiri.launcher.CliRun.runWithStdin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiri.client.Cluster;
import kiri.client.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client commands as a user runs them ({@code kiri topic|cat|perf}), through {@link Main#run}
 * against an in-process broker on null:// storage (offsets are kept, records are discarded, so
 * consume round trips wait for the memory engine; consume is checked against empty topics).
 */
class ToolsTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start(new Broker.Settings(new ListenerUrl("127.0.0.1", 0), new ListenerUrl("127.0.0.1", 0),
                "null://", null, 0, true, 1));
        bootstrap = "127.0.0.1:" + broker.localAddress().getPort();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }





    private static long endOffset(String topic, int partition) throws Exception {
        try (Cluster c = Cluster.connect(bootstrap); Consumer consumer = new Consumer(c, Consumer.Config.defaults())) {
            consumer.assign(topic, List.of(partition), Consumer.LATEST);
            return consumer.positions().get(topic + "-" + partition);
        }
    }

    @Test
    void topicCreateListDescribeDelete() {
        assertOk(run("topic", "create", "tools-orders", "--bootstrap", bootstrap, "--partitions", "3",
                "--config", "retention.ms=1000", "--config", "cleanup.policy=compact"));
        CliRun list = run("topic", "list", "--bootstrap", bootstrap);
        assertOk(list);
        assertTrue(list.out().lines().anyMatch("tools-orders"::equals), list.out());

        CliRun describe = run("topic", "describe", "tools-orders", "--bootstrap", bootstrap);
        assertOk(describe);
        assertTrue(describe.out().contains("Topic: tools-orders\t"), describe.out());
        assertTrue(describe.out().contains("PartitionCount: 3"), describe.out());
        assertTrue(describe.out().contains("retention.ms=1000"), describe.out());
        assertTrue(describe.out().contains("cleanup.policy=compact"), describe.out());
        assertEquals(3, describe.out().lines().filter(l -> l.startsWith("\tTopic: tools-orders\tPartition: ")).count(),
                describe.out());

        assertOneLineError(run("topic", "create", "tools-orders", "--bootstrap", bootstrap), "TOPIC_ALREADY_EXISTS");
        assertOk(run("topic", "create", "tools-orders", "--bootstrap", bootstrap, "--if-not-exists"));
        assertOk(run("topic", "create", "--topic", "tools-other", "--bootstrap", bootstrap));
        assertTrue(run("topic", "describe", "--topic", "tools-other", "--bootstrap", bootstrap).out()
                .contains("PartitionCount: 1"));
        assertOk(run("topic", "delete", "--topic", "tools-other", "--bootstrap", bootstrap));
        assertOneLineError(run("topic", "create", "--bootstrap", bootstrap), "name the topic");

        assertOk(run("topic", "delete", "tools-orders", "--bootstrap", bootstrap));
        assertFalse(run("topic", "list", "--bootstrap", bootstrap).out().lines().anyMatch("tools-orders"::equals));
        assertOneLineError(run("topic", "describe", "tools-orders", "--bootstrap", bootstrap), "UNKNOWN_TOPIC_OR_PARTITION");
        assertOneLineError(run("topic", "delete", "tools-orders", "--bootstrap", bootstrap), "UNKNOWN_TOPIC_OR_PARTITION");
        assertOk(run("topic", "delete", "tools-orders", "--bootstrap", bootstrap, "--if-exists"));
        // --verbose on a nested command adds the stack trace; without it the error stays one line
        CliRun verbose = run("topic", "describe", "tools-orders", "--bootstrap", bootstrap, "--verbose");
        assertTrue(verbose.exit() != 0 && verbose.err().contains("\tat "), verbose.err());
    }

    @Test
    void badConfigAndUnreachableBrokerAreOneLine() throws Exception {
        assertOneLineError(run("topic", "create", "x", "--bootstrap", bootstrap, "--config", "novalue"), "KEY=VALUE");
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertOneLineError(run("topic", "list", "--bootstrap", "127.0.0.1:" + port), "cannot connect to 127.0.0.1:" + port);
        assertOneLineError(run("topic", "list", "--bootstrap", "nocolon"), "HOST:PORT");
    }

    @Test
    void catProducesTextLines() throws Exception {
        assertOk(run("topic", "create", "tools-text", "--bootstrap", bootstrap));
        CliRun r = runWithStdin("one\ntwo\nthree\n", "cat", "produce", "--bootstrap", bootstrap, "--topic", "tools-text");
        assertOk(r);
        assertTrue(r.err().contains("produced 3 records to tools-text"), r.err());
        assertEquals(3, endOffset("tools-text", 0));

        CliRun keyed = runWithStdin("k1:v1\nk2:v2\n", "cat", "produce", "--bootstrap", bootstrap, "--topic", "tools-text",
                "--key-separator", ":", "--acks", "1");
        assertOk(keyed);
        assertEquals(5, endOffset("tools-text", 0));
    }

    @Test
    void catProducesJsonLinesToTheirPartitions() throws Exception {
        assertOk(run("topic", "create", "tools-json", "--bootstrap", bootstrap, "--partitions", "2"));
        String lines = """
                {"key": "a", "value": "first", "partition": 1}
                {"key": null, "value": {"nested": [1, 2, {"x": "y"}]}, "partition": 1}

                {"value": "\\u00e9t\\u00e9 \\"quoted\\"", "partition": 0}
                """;
        CliRun r = runWithStdin(lines, "cat", "produce", "--bootstrap", bootstrap, "--topic", "tools-json", "--format", "json");
        assertOk(r);
        assertEquals(1, endOffset("tools-json", 0));
        assertEquals(2, endOffset("tools-json", 1));

        CliRun bad = runWithStdin("{\"value\": \"x\"\n", "cat", "produce", "--bootstrap", bootstrap, "--topic", "tools-json",
                "--format", "json");
        assertOneLineError(bad, "line 1: bad JSON");
    }

    @Test
    void catConsumesAnEmptyTopicAndStopsAtTheTimeout() {
        assertOk(run("topic", "create", "tools-empty", "--bootstrap", bootstrap, "--partitions", "2"));
        CliRun r = run("cat", "consume", "--bootstrap", bootstrap, "--topic", "tools-empty", "--from-beginning",
                "--timeout-ms", "200", "--format", "json");
        assertOk(r);
        assertEquals("", r.out());
        assertOneLineError(run("cat", "consume", "--bootstrap", bootstrap, "--topic", "tools-missing", "--timeout-ms", "100"),
                "UNKNOWN_TOPIC_OR_PARTITION");
    }

    @Test
    void catConsumeWithAGroupJoinsOrSaysClearlyWhyNot() {
        assertOk(run("topic", "create", "tools-group", "--bootstrap", bootstrap));
        assertOneLineError(run("cat", "consume", "--bootstrap", bootstrap, "--topic", "tools-group", "--group", "g",
                "--partition", "0"), "--group takes its partitions");
        // Kiri's group coordinator is being built elsewhere: until it is routed, JoinGroup is refused in one line;
        // once it is, the member joins, finds nothing to read (null://) and exits at the timeout.
        CliRun r = run("cat", "consume", "--bootstrap", bootstrap, "--topic", "tools-group", "--group", "g",
                "--from-beginning", "--timeout-ms", "300");
        if (r.exit() == 0) {
            assertEquals("", r.out());
        } else {
            assertOneLineError(r, "JoinGroup");
        }
    }

    @Test
    void perfProducePrintsProgressAndAJsonSummary() throws Exception {
        CliRun r = run("perf", "produce", "--bootstrap", bootstrap, "--topic", "tools-perf", "--records", "3000",
                "--record-size", "100", "--throughput", "-1", "--batch-size", "4096", "--json");
        assertOk(r);
        String json = r.out().strip();
        assertTrue(json.startsWith("{") && json.endsWith("}") && !json.contains("\n"), json);
        for (String field : new String[] {"records_per_sec", "mb_per_sec", "avg_latency_ms", "max_latency_ms", "p50_ms",
                "p95_ms", "p99_ms", "p999_ms"}) {
            assertTrue(json.contains("\"" + field + "\":"), field + " in " + json);
        }
        assertEquals("3000", field(json, "records"));
        assertEquals("3000", field(json, "acked"));
        assertEquals("0", field(json, "errors"));
        assertEquals(3000, endOffset("tools-perf", 0));
    }

    @Test
    void perfProduceThrottlesAndReportsProgressWithSeveralProducers() throws Exception {
        assertOk(run("topic", "create", "tools-perf2", "--bootstrap", bootstrap, "--partitions", "3"));
        CliRun r = run("perf", "produce", "--bootstrap", bootstrap, "--topic", "tools-perf2", "--records", "600",
                "--record-size", "10", "--throughput", "1000", "--producers", "2", "--acks", "1", "--linger-ms", "0",
                "--report-interval-ms", "150");
        assertOk(r);
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.size() >= 3, r.out()); // throttled to ~0.6 s: progress lines, then the summary
        assertTrue(lines.getFirst().matches("\\d+ records sent, [\\d.]+ records/sec \\([\\d.]+ MB/sec\\), [\\d.]+ ms avg latency, [\\d.]+ ms max latency\\."),
                lines.getFirst());
        assertTrue(lines.getLast().startsWith("600 records sent, "), lines.getLast());
        assertTrue(lines.getLast().contains("99.9th"), lines.getLast());
        long total = endOffset("tools-perf2", 0) + endOffset("tools-perf2", 1) + endOffset("tools-perf2", 2);
        assertEquals(600, total);

        CliRun acks0 = run("perf", "produce", "--bootstrap", bootstrap, "--topic", "tools-perf2", "--records", "500",
                "--record-size", "10", "--throughput", "-1", "--acks", "0");
        assertOk(acks0);
        assertOneLineError(run("perf", "produce", "--bootstrap", bootstrap, "--topic", "t", "--records", "1",
                "--record-size", "1", "--throughput", "-1", "--acks", "2"), "--acks must be");
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":([^,}]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    @Test
    void helpListsTheClientCommands() {
        CliRun r = run("--help");
        for (String c : new String[] {"broker", "topic", "cat", "perf"}) {
            assertTrue(r.out().contains(c), c + " in " + r.out());
        }
        assertTrue(run("perf", "produce", "--help").out().contains("--record-size"));
        assertTrue(run("cat", "consume", "--help").out().contains("--from-beginning"));
    }
}
