package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Produce-then-consume round trips through {@code kiri cat} and {@code kiri perf}, on a broker that
 * keeps records (memory://), including consuming in a group.
 */
class RoundTripTest {
    private static Broker broker;
    private static String bootstrap;

    private record Result(int exit, String out, String err) {
    }

    @BeforeAll
    static void start() throws Exception {
        broker = InProcessBroker.start("memory://");
        bootstrap = InProcessBroker.bootstrap(broker);
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static synchronized Result run(String stdin, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
            return new Result(exit, out.toString(), err.toString());
        } finally {
            System.setIn(saved);
        }
    }

    private static Result ok(String stdin, String... args) {
        Result r = run(stdin, args);
        assertEquals(0, r.exit(), "out: " + r.out() + "\nerr: " + r.err());
        return r;
    }

    @Test
    void catProduceThenConsumeEveryRecord() {
        ok("", "topic", "create", "rt-cat", "--partitions", "3", "--bootstrap", bootstrap);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            lines.append("key-").append(i).append('\t').append("value-").append(i).append('\n');
        }
        ok(lines.toString(), "cat", "produce", "--bootstrap", bootstrap, "--topic", "rt-cat", "--key-separator", "\t");
        ok("{\"key\": null, \"value\": \"é \\\"quoted\\\"\", \"partition\": 2}\n", "cat", "produce", "--bootstrap",
                bootstrap, "--topic", "rt-cat", "--format", "json");

        Result text = ok("", "cat", "consume", "--bootstrap", bootstrap, "--topic", "rt-cat", "--from-beginning",
                "--max-messages", "61", "--print-key");
        Set<String> seen = new TreeSet<>(text.out().lines().toList());
        assertEquals(61, seen.size(), text.out());
        assertTrue(seen.contains("key-7\tvalue-7") && seen.contains("null\té \"quoted\""), text.out());

        Result json = ok("", "cat", "consume", "--bootstrap", bootstrap, "--topic", "rt-cat", "--partition", "2",
                "--from-beginning", "--timeout-ms", "500", "--format", "json");
        assertTrue(json.out().contains("\"key\":null,\"value\":\"é \\\"quoted\\\"\""), json.out());
        assertTrue(json.out().lines().allMatch(l -> l.startsWith("{\"topic\":\"rt-cat\",\"partition\":2,\"offset\":")),
                json.out());
    }

    @Test
    void perfProducedRecordsAreAllThere() {
        ok("", "perf", "produce", "--bootstrap", bootstrap, "--topic", "rt-perf", "--records", "5000", "--record-size",
                "200", "--throughput", "-1", "--json");
        Result r = ok("", "cat", "consume", "--bootstrap", bootstrap, "--topic", "rt-perf", "--from-beginning",
                "--timeout-ms", "1000");
        List<String> values = r.out().lines().toList();
        assertEquals(5000, values.size());
        assertTrue(values.stream().allMatch(v -> v.length() == 200), "every value is 200 bytes");
    }

    @Test
    void aGroupResumesWhereItCommitted() {
        ok("", "topic", "create", "rt-group", "--partitions", "2", "--bootstrap", bootstrap);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            lines.append("v").append(i).append('\n');
        }
        ok(lines.toString(), "cat", "produce", "--bootstrap", bootstrap, "--topic", "rt-group");
        Result first = run("", "cat", "consume", "--bootstrap", bootstrap, "--topic", "rt-group", "--group", "rt",
                "--from-beginning", "--max-messages", "10");
        assertEquals(0, first.exit(), first.err());
        Result rest = ok("", "cat", "consume", "--bootstrap", bootstrap, "--topic", "rt-group", "--group", "rt",
                "--from-beginning", "--timeout-ms", "1500");
        Set<String> all = new TreeSet<>(first.out().lines().toList());
        all.addAll(rest.out().lines().toList());
        assertEquals(10, first.out().lines().count());
        assertEquals(20, rest.out().lines().count(), rest.out());
        assertEquals(30, all.size());
    }
}
