package kiri.launcher.log;

import java.io.PrintStream;
import java.lang.System.Logger.Level;

/**
 * Where Kiri's log lines go and which get written: records at {@link #level()} or above (INFO unless the system
 * property {@code kiri.log.level} or the environment variable {@code KIRI_LOG_LEVEL} names another
 * {@link Level}), at most {@link #LINES_PER_KIND} of a kind per {@link #INTERVAL_MILLIS} (see {@link RateLimit}),
 * each as one line (see {@link LineFormat}) on stderr; with {@code --verbose} an exception's stack trace follows.
 *
 * <p>{@link #init} runs once at startup, before a broker accepts connections: it settles the level and writes a
 * line into the void, so everything a line needs is loaded while files can still be opened (a first line written
 * while the process is out of file descriptors must not need any). Thread-safe; a failure to log is swallowed.
 */
public final class Logs {
    static final int LINES_PER_KIND = 10;
    static final long INTERVAL_MILLIS = 10_000;

    private static final RateLimit LIMIT = new RateLimit(LINES_PER_KIND, INTERVAL_MILLIS);
    private static volatile int threshold = level(System.getProperty("kiri.log.level", System.getenv("KIRI_LOG_LEVEL")))
            .getSeverity();
    private static volatile boolean verbose;
    private static volatile PrintStream out = System.err;

    private Logs() {
    }

    /** Sets up logging for a command: {@code verbose} adds stack traces. Idempotent. */
    public static void init(boolean verbose) {
        Logs.verbose = verbose;
        // a line formatted and dropped: loads the classes of formatting, the rate limit and the logger finder now
        String warm = LineFormat.format(System.currentTimeMillis(), Level.INFO, "kiri", "warm-up {0}",
                new Object[] {1}, new IllegalStateException("warm-up", new RuntimeException()), verbose);
        LIMIT.admit("kiri", "warm-up", warm, System.currentTimeMillis());
        System.getLogger("kiri").isLoggable(Level.INFO);
    }

    /** The lowest level written. */
    public static Level level() {
        for (Level l : Level.values()) {
            if (l.getSeverity() == threshold) {
                return l;
            }
        }
        return Level.INFO;
    }

    /** Redirects the lines (tests); returns the previous stream. */
    static PrintStream redirect(PrintStream to) {
        PrintStream previous = out;
        out = to;
        return previous;
    }

    static boolean enabled(Level level) {
        return level != Level.OFF && level.getSeverity() >= threshold;
    }

    static void write(String logger, Level level, String template, Object[] params, Throwable thrown) {
        try {
            long now = System.currentTimeMillis();
            long dropped = LIMIT.admit(logger, level.getName(), template, now);
            if (dropped < 0) {
                return;
            }
            String line = LineFormat.format(now, level, logger, template, params, thrown, verbose);
            if (dropped > 0) {
                int end = line.indexOf('\n');
                line = line.substring(0, end) + " (" + dropped + " similar lines suppressed before this one)"
                        + line.substring(end);
            }
            PrintStream s = out;
            synchronized (s) {
                s.print(line);
                s.flush();
            }
        } catch (Throwable ignored) {
            // a logger must never fail its caller (an event loop, the acceptor)
        }
    }

    private static Level level(String name) {
        if (name != null) {
            for (Level l : Level.values()) {
                if (l.getName().equalsIgnoreCase(name.strip()) || l.name().equalsIgnoreCase(name.strip())) {
                    return l;
                }
            }
        }
        return Level.INFO;
    }
}
