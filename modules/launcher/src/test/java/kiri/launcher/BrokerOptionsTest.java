package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code kiri broker}'s own option parser ({@link BrokerCommand#parse}): every flag, both forms, the
 * environment defaults, and that it declines (leaving the command line to picocli) whatever it does
 * not parse exactly as picocli would. Each case is also parsed by the picocli command built from the
 * same table and the two must agree.
 */
class BrokerOptionsTest {
    private static final Map<String, String> NO_ENV = Map.of();

    private static final BrokerCommand.Values DEFAULTS = new BrokerCommand.Values("tcp://0.0.0.0:9092",
            null, "file:./kiri-data", null, 0, true, 1, 3000, null, null, false);

    /** The fast parser's answer, checked against picocli's for the same arguments and environment. */
    private static BrokerCommand.Values parse(Map<String, String> env, String... args) {
        BrokerCommand.Values fast = BrokerCommand.parse(List.of(args), env::get);
        BrokerCommand.Values picocli = picocli(env::get, args);
        if (fast != null) {
            assertEquals(picocli, fast, "picocli parses " + List.of(args) + " the same");
        }
        return fast;
    }

    private static BrokerCommand.Values parse(String... args) {
        return parse(NO_ENV, args);
    }

    /** picocli's parse of the broker command built from the same table; null on a usage error. */
    private static BrokerCommand.Values picocli(Function<String, String> env, String... args) {
        CommandSpec spec = Cli.broker(env);
        try {
            new CommandLine(spec).parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            return null;
        }
        return BrokerCommand.Values.of(name -> spec.findOption(name).getValue());
    }

    @Test
    void defaults() {
        assertEquals(DEFAULTS, parse());
    }

    @Test
    void everyFlagWithASeparateValue() {
        assertEquals(new BrokerCommand.Values("tcp://127.0.0.1:1", "tcp://h:2", "memory://", "abc", 3, false, 4, 0, "/p",
                        "http://127.0.0.1:9404", true),
                parse("--listener", "tcp://127.0.0.1:1", "--advertised-listener", "tcp://h:2", "--storage", "memory://",
                        "--cluster-id", "abc", "--node-id", "3", "--no-auto-create-topics", "--default-partitions", "4",
                        "--group-initial-rebalance-delay-ms", "0", "--plugins", "/p", "--metrics-listener",
                        "http://127.0.0.1:9404", "--verbose"));
    }

    @Test
    void everyFlagWithEquals() {
        assertEquals(new BrokerCommand.Values("tcp://127.0.0.1:1", "tcp://h:2", "file:/d?fsync=always", "a=b", 3, true, 4,
                        250, "/p", null, false),
                parse("--listener=tcp://127.0.0.1:1", "--advertised-listener=tcp://h:2", "--storage=file:/d?fsync=always",
                        "--cluster-id=a=b", "--node-id=3", "--auto-create-topics", "--default-partitions=4",
                        "--group-initial-rebalance-delay-ms=250", "--plugins=/p"));
        assertEquals("", parse("--cluster-id=").clusterId());
    }

    @Test
    void numbersAsPicocliReadsThem() {
        assertEquals(10, parse("--node-id", "010").nodeId());
        assertEquals(5, parse("--node-id=+5").nodeId());
    }

    @Test
    void environmentDefaults() {
        Map<String, String> env = Map.of("KIRI_LISTENER", "tcp://127.0.0.1:5", "KIRI_ADVERTISED_LISTENER", "tcp://a:6",
                "KIRI_STORAGE", "null://", "KIRI_CLUSTER_ID", "cid", "KIRI_NODE_ID", "7", "KIRI_PLUGINS", "/plugins",
                "KIRI_METRICS_LISTENER", "http://h:1");
        assertEquals(new BrokerCommand.Values("tcp://127.0.0.1:5", "tcp://a:6", "null://", "cid", 7, true, 1, 3000, "/plugins",
                        "http://h:1", false),
                parse(env));
        assertEquals(new BrokerCommand.Values("tcp://127.0.0.1:9", "tcp://a:6", "memory://", "cid", 8, true, 1, 3000,
                "/plugins", "http://h:1", false), parse(env, "--listener", "tcp://127.0.0.1:9", "--storage=memory://", "--node-id", "8"));
        assertEquals("", parse(Map.of("KIRI_CLUSTER_ID", ""), new String[0]).clusterId(), "set but empty counts as set");
        assertEquals("file:${HOME}/d", parse(Map.of("KIRI_STORAGE", "file:${HOME}/d"), new String[0]).storage());
    }

    @Test
    void declinesWhatPicocliRejects() {
        for (String[] args : new String[][] {
                {"--no-such-flag"}, {"--listener"}, {"--node-id", "x"}, {"--node-id=0x10"}, {"--node-id", "99999999999"},
                {"--default-partitions="}, {"--listener", "a", "--listener", "b"}, {"--listener=a", "--listener=b"},
                {"--verbose", "--verbose"}, {"--no-auto-create-topics", "--auto-create-topics"}, {"--no-verbose"},
                {"--listener", "--verbose"}, {"--listener=--verbose"}, {"positional"}, {"--", "x"}, {"--verbose", "true"},
                {"--listen", "x"}, {"--LISTENER", "x"}}) {
            assertNull(BrokerCommand.parse(List.of(args), NO_ENV::get), List.of(args).toString());
            assertNull(picocli(NO_ENV::get, args), "picocli rejects " + List.of(args));
        }
        assertNull(parse(Map.of("KIRI_NODE_ID", "x"), new String[0]));
        assertNull(picocli(Map.of("KIRI_NODE_ID", "x")::get));
    }

    @Test
    void declinesWhatPicocliDoesItself() {
        for (String[] args : new String[][] {
                {"--help"}, {"-h"}, {"--version"}, {"-V"}, {"@args.txt"}, {"--cluster-id", "@id.txt"},
                {"--verbose=true"}, {"--auto-create-topics=false"}, {"--node-id", "-1"}, {"--cluster-id", ""}}) {
            assertNull(BrokerCommand.parse(List.of(args), NO_ENV::get), List.of(args).toString());
        }
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void usageErrorsArePicocliOneLinersWithExitTwo() {
        Map<List<String>, String> cases = Map.of(
                List.of("broker", "--node-id", "x"), "kiri: Invalid value for option '--node-id': 'x' is not an int",
                List.of("broker", "--listener", "a", "--listener=b"), "kiri: option '--listener' (URL) should be specified only once",
                List.of("broker", "--storage"), "kiri: Missing required parameter for option '--storage' (URL)",
                List.of("broker", "extra"), "kiri: Unmatched argument at index 1: 'extra'");
        cases.forEach((args, message) -> {
            Result r = run(args.toArray(String[]::new));
            assertEquals(2, r.exit(), args.toString());
            assertEquals(message, r.err().strip(), args.toString());
            assertEquals("", r.out());
        });
    }

    @Test
    void runtimeErrorsOnTheFastPathAreOneLineWithExitOne() {
        Result r = run("broker", "--listener", "tcp://127.0.0.1:0", "--default-partitions=0");
        assertEquals(1, r.exit());
        assertEquals("kiri: --default-partitions must be >= 1, got 0", r.err().strip());
        Result delay = run("broker", "--listener", "tcp://127.0.0.1:0", "--group-initial-rebalance-delay-ms=-1");
        assertEquals(1, delay.exit());
        assertEquals("kiri: --group-initial-rebalance-delay-ms must be >= 0, got -1", delay.err().strip());
        Result verbose = run("broker", "--listener", "localhost:1", "--verbose");
        assertEquals(1, verbose.exit());
        assertTrue(verbose.err().contains("\tat "), "--verbose prints the stack trace: " + verbose.err());
        assertTrue(verbose.err().strip().contains("must look like tcp://HOST:PORT"), verbose.err());
    }

    @Test
    void theRebalanceDelayFlagReachesTheCoordinator() {
        assertEquals(0, Broker.coordinatorConfig(0).initialRebalanceDelayMs());
        assertEquals(250, Broker.coordinatorConfig(250).initialRebalanceDelayMs());
        if (System.getProperty("kiri.group.initial.rebalance.delay.ms") == null) {
            assertEquals(3000, Broker.coordinatorConfig(-1).initialRebalanceDelayMs(), "unset: Kafka's default");
        }
    }

    /** The classes a plain {@code kiri broker} loads must not refer to picocli (that is what keeps it out). */
    @Test
    void theBrokerPathDoesNotReferToPicocli() throws IOException {
        for (Class<?> type : List.of(Main.class, BrokerCommand.class, BrokerCommand.Option.class, BrokerCommand.Kind.class,
                BrokerCommand.Values.class)) {
            try (InputStream in = type.getResourceAsStream(type.getName().substring(type.getPackageName().length() + 1)
                    + ".class")) {
                assertNotNull(in, type.getName());
                String constants = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                assertFalse(constants.contains("picocli"), type.getName() + " refers to picocli");
            }
        }
    }

    @Test
    void withoutAnAdvertisedListenerTheBrokerAdvertisesWhereItListens() throws Exception {
        BrokerCommand.Values values = parse("--listener", "tcp://127.0.0.1:0", "--storage", "null://");
        assertNull(values.advertisedListener());
        StringWriter out = new StringWriter();
        try (Broker broker = BrokerCommand.start(values, new PrintWriter(out))) {
            int port = broker.localAddress().getPort();
            assertEquals("127.0.0.1", broker.config().advertisedHost());
            assertEquals(port, broker.config().advertisedPort(), "the real port, not 9092 or 0");
            assertTrue(out.toString().contains("(advertised tcp://127.0.0.1:" + port + ")"), out.toString());
        }
        assertEquals(new ListenerUrl("localhost", 9092), ListenerUrl.parse("tcp://0.0.0.0:9092").advertisable());
        assertEquals(new ListenerUrl("localhost", 0), ListenerUrl.parse("tcp://[::]:0").advertisable());
        assertEquals(new ListenerUrl("kiri.example", 19092), ListenerUrl.parse("tcp://kiri.example:19092").advertisable());
    }
}
