package kiri.launcher;

import static kiri.launcher.CliRun.assertOk;
import static kiri.launcher.CliRun.run;
import static kiri.launcher.CliRun.runWithStdin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code kiri perf consume}, per-window progress counts, headers from {@code kiri cat produce}, offsets in topic describe. */
class DeveloperToolsTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = InProcessBroker.start("memory://");
        bootstrap = InProcessBroker.bootstrap(broker);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void perfConsumeReadsWhatPerfProduceWrote() {
        assertOk(run("topic", "create", "perf-c", "--partitions", "3", "-b", bootstrap));
        CliRun produced = run("perf", "produce", "-b", bootstrap, "--topic", "perf-c", "--records", "600", "--record-size", "100",
                "--throughput", "1000", "--linger-ms", "0", "--report-interval-ms", "150");
        assertOk(produced);
        List<String> lines = produced.out().lines().toList();
        long windows = 0;
        for (String line : lines.subList(0, lines.size() - 1)) {
            windows += Long.parseLong(line.substring(0, line.indexOf(' ')));
        }
        // each progress line counts its own window (Kafka's tool does), so together they never exceed the total
        assertTrue(lines.size() >= 3 && windows <= 600, produced.out());

        CliRun consumed = run("perf", "consume", "-b", bootstrap, "--topic", "perf-c", "--records", "600", "--report-interval-ms", "1");
        assertOk(consumed);
        String summary = consumed.out().lines().toList().getLast();
        assertTrue(summary.startsWith("600 records consumed, 0.06 MB, "), summary);
        assertTrue(summary.matches(".*\\d+ fetches: [\\d.]+ ms avg, [\\d.]+ ms 50th, [\\d.]+ ms 95th, [\\d.]+ ms 99th, [\\d.]+ ms 99.9th, [\\d.]+ ms max fetch latency\\."), summary);

        CliRun json = run("perf", "consume", "-b", bootstrap, "--topic", "perf-c", "--messages", "600", "--json");
        assertOk(json);
        assertTrue(json.out().strip().startsWith("{\"topic\":\"perf-c\",\"records\":600,\"bytes\":60000,"), json.out());

        CliRun tooMany = run("perf", "consume", "-b", bootstrap, "--topic", "perf-c", "--records", "601", "--timeout-ms", "300");
        assertEquals(1, tooMany.exit(), tooMany.err());
        assertTrue(tooMany.err().contains("kiri: read 600 of 601 records"), tooMany.err());
    }

    @Test
    void catProduceSendsHeaders() {
        CliRun r = runWithStdin("v1\nv2\n", "cat", "produce", "-b", bootstrap, "--topic", "headers", "-H", "trace=abc", "--header", "empty=");
        assertOk(r);
        CliRun c = run("cat", "consume", "-b", bootstrap, "--topic", "headers", "--from-beginning", "--max-messages", "2",
                "--format", "json");
        assertOk(c);
        List<String> lines = c.out().lines().toList();
        assertEquals(2, lines.size(), c.out());
        for (String line : lines) {
            assertTrue(line.contains("\"headers\":{\"trace\":\"abc\",\"empty\":\"\"}"), line);
        }
        CliRun bad = runWithStdin("v\n", "cat", "produce", "-b", bootstrap, "--topic", "headers", "-H", "novalue");
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("--header must look like KEY=VALUE"), bad.err());
    }

    @Test
    void topicDescribeShowsLogStartAndEnd() {
        assertOk(run("topic", "create", "described", "--partitions", "2", "-b", bootstrap));
        assertOk(runWithStdin("a\nb\nc\n", "cat", "produce", "-b", bootstrap, "--topic", "described", "--partition", "1"));
        CliRun r = run("topic", "describe", "described", "-b", bootstrap);
        assertOk(r);
        Matcher m = Pattern.compile("Partition: (\\d)\\tLeader: 0\\t.*LogStartOffset: (\\d+)\\tLogEndOffset: (\\d+)").matcher(r.out());
        StringBuilder seen = new StringBuilder();
        while (m.find()) {
            seen.append(m.group(1)).append(':').append(m.group(2)).append('-').append(m.group(3)).append(' ');
        }
        assertEquals("0:0-0 1:0-3 ", seen.toString(), r.out());
    }



}
