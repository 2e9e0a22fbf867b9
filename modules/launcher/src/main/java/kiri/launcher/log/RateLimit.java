package kiri.launcher.log;

import java.util.concurrent.ConcurrentHashMap;

/**
 * At most {@code limit} lines of one kind per interval; the first line of a kind after some were dropped says how
 * many. A kind is the logger, the level and the message template with its digits left out, so "closing connection
 * 7 from /10.0.0.1:5120: ..." and "closing connection 8 from /10.0.0.1:5121: ..." are the same kind. Thread-safe.
 */
final class RateLimit {
    /** Kinds are few (templates in code); this only guards against messages built from unbounded input. */
    private static final int MAX_KINDS = 4096;

    private final int limit;
    private final long intervalMillis;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    RateLimit(int limit, long intervalMillis) {
        this.limit = limit;
        this.intervalMillis = intervalMillis;
    }

    /** One kind's counts in its current interval. */
    private static final class Window {
        long start;
        int written;
        long suppressed;
    }

    /**
     * Whether a line of this kind may be written at {@code nowMillis}: -1 if not (it is counted), else how many of
     * its kind were dropped since the last one written.
     */
    long admit(String logger, String level, String template, long nowMillis) {
        if (windows.size() > MAX_KINDS) {
            windows.clear();
        }
        Window w = windows.computeIfAbsent(kind(logger, level, template), k -> new Window());
        synchronized (w) {
            if (nowMillis - w.start >= intervalMillis) {
                w.start = nowMillis;
                w.written = 0;
            }
            if (w.written >= limit) {
                w.suppressed++;
                return -1;
            }
            w.written++;
            long dropped = w.suppressed;
            w.suppressed = 0;
            return dropped;
        }
    }

    private static String kind(String logger, String level, String template) {
        StringBuilder b = new StringBuilder(logger.length() + 16 + (template == null ? 4 : template.length()));
        b.append(logger).append(' ').append(level).append(' ');
        if (template != null) {
            for (int i = 0; i < template.length(); i++) {
                char c = template.charAt(i);
                if (c < '0' || c > '9') {
                    b.append(c);
                }
            }
        }
        return b.toString();
    }
}
