package kiri.launcher.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.System.Logger.Level;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * One log record as one line: {@code 2025-01-31T12:00:00.123Z WARNING kiri.transport message}, then the
 * exception's one-line summary, or (verbose) its stack trace on the following lines.
 *
 * <p>Parameters fill {@code {0}}, {@code {1}}, ... with {@link String#valueOf}: no {@link java.text.MessageFormat},
 * so ports, node ids and offsets print without thousands separators. Line breaks inside a message are escaped, so a
 * client-supplied string cannot forge lines. The time is UTC, computed without time-zone data (nothing to load).
 * Stateless and thread-safe.
 */
final class LineFormat {
    private LineFormat() {
    }

    /** The line for a record, ending with a line break. */
    static String format(long epochMillis, Level level, String logger, String template, Object[] params,
            Throwable thrown, boolean verbose) {
        StringBuilder b = new StringBuilder(128);
        time(b, epochMillis);
        b.append(' ').append(level.getName()).append(' ').append(logger).append(' ');
        message(b, template, params);
        if (thrown != null) {
            b.append(": ");
            escaped(b, summary(thrown));
        }
        b.append('\n');
        if (thrown != null && verbose) {
            StringWriter trace = new StringWriter();
            thrown.printStackTrace(new PrintWriter(trace));
            b.append(trace);
        }
        return b.toString();
    }

    /** {@code Class: message}, and the root cause's when there is one. */
    static String summary(Throwable thrown) {
        Throwable root = thrown;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == thrown ? thrown.toString() : thrown + " (caused by " + root + ")";
    }

    private static void time(StringBuilder b, long epochMillis) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(epochMillis, 1000L), 0, ZoneOffset.UTC);
        b.append(t.getYear()).append('-');
        two(b, t.getMonthValue()).append('-');
        two(b, t.getDayOfMonth()).append('T');
        two(b, t.getHour()).append(':');
        two(b, t.getMinute()).append(':');
        two(b, t.getSecond()).append('.');
        int millis = (int) Math.floorMod(epochMillis, 1000L);
        b.append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10)).append((char) ('0' + millis % 10));
        b.append('Z');
    }

    private static StringBuilder two(StringBuilder b, int value) {
        return b.append((char) ('0' + value / 10)).append((char) ('0' + value % 10));
    }

    private static void message(StringBuilder b, String template, Object[] params) {
        if (template == null) {
            b.append("null");
            return;
        }
        if (params.length == 0) {
            escaped(b, template);
            return;
        }
        int i = 0;
        int n = template.length();
        while (i < n) {
            char c = template.charAt(i);
            int close = c == '{' ? template.indexOf('}', i) : -1;
            if (close > i + 1 && close - i <= 4) {
                int index = index(template, i + 1, close);
                if (index >= 0 && index < params.length) {
                    escaped(b, String.valueOf(params[index]));
                    i = close + 1;
                    continue;
                }
            }
            escaped(b, c);
            i++;
        }
    }

    /** The decimal number in {@code s[from, to)}, or -1. */
    private static int index(String s, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static void escaped(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            escaped(b, s.charAt(i));
        }
    }

    private static void escaped(StringBuilder b, char c) {
        switch (c) {
            case '\n' -> b.append("\\n");
            case '\r' -> b.append("\\r");
            default -> b.append(c);
        }
    }
}
