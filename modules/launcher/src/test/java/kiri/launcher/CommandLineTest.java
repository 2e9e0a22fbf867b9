package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** User errors print one clear line and exit non-zero, without a stack trace. */
class CommandLineTest {
    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static void assertOneLine(Result r, String expected) {
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line: " + r.err());
        assertTrue(lines[0].startsWith("kiri: ") && lines[0].contains(expected), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    @Test
    void unknownFlagIsOneLineAndExitTwo() {
        Result r = run("broker", "--no-such-flag");
        assertEquals(2, r.exit());
        assertOneLine(r, "--no-such-flag");
    }

    @Test
    void badListenerUrlIsOneLine() {
        Result r = run("broker", "--listener", "localhost:9092");
        assertEquals(1, r.exit());
        assertOneLine(r, "must look like tcp://HOST:PORT");
    }

    @Test
    void unknownStorageSchemeListsWhatIsThere() {
        Result r = run("broker", "--listener", "tcp://127.0.0.1:0", "--storage", "nosuch://x");
        assertEquals(1, r.exit());
        assertOneLine(r, "no storage engine for scheme 'nosuch' (found: memory, null)");
    }

    @Test
    void portInUseIsOneLine() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Result r = run("broker", "--listener", "tcp://127.0.0.1:" + taken.getLocalPort(), "--storage", "null://");
            assertEquals(1, r.exit());
            assertOneLine(r, "Address already in use");
        }
    }

    @Test
    void helpListsTheBrokerFlags() {
        Result r = run("broker", "--help");
        assertEquals(0, r.exit());
        for (String flag : new String[] {"--listener", "--advertised-listener", "--storage", "--cluster-id", "--node-id",
                "auto-create-topics", "--default-partitions"}) {
            assertTrue(r.out().contains(flag), flag);
        }
        if (System.getenv("KIRI_STORAGE") == null) {
            assertTrue(r.out().replaceAll("\\s+", "").contains("defaultmemory://"), "memory:// is the default storage: " + r.out());
        }
    }
}
