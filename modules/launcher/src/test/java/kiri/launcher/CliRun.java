package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs a {@code kiri} command line in-process (through {@link Main#run}) and checks how it ended. */
record CliRun(int exit, String out, String err) {
    static CliRun run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new CliRun(exit, out.toString(), err.toString());
    }

    /** The same with {@code stdin} as standard input (System.in is global: one at a time). */
    static synchronized CliRun runWithStdin(String stdin, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            return run(args);
        } finally {
            System.setIn(saved);
        }
    }

    static void assertOk(CliRun r) {
        assertEquals(0, r.exit(), "out: " + r.out() + "\nerr: " + r.err());
    }

    /** Exit 1 with one line on stderr, {@code kiri: ...} containing {@code expected}, and no stack trace. */
    static void assertOneLineError(CliRun r, String expected) {
        assertEquals(1, r.exit(), r.out() + r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("kiri: ") && lines[0].contains(expected), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }
}
