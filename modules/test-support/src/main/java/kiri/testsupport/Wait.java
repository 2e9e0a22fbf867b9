package kiri.testsupport;

import java.time.Duration;

/**
 * The one way a Kiri test waits: for a condition, polled until a deadline, never for a fixed time (the
 * suite runs on loaded 2-core machines, so deadlines are generous and only bound a failure).
 */
public final class Wait {
    /** A condition that may throw: an admin call, a query. A throw counts as "not yet" until the deadline. */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    /** The deadline tests use unless they have a reason for another. */
    public static final Duration DEFAULT = Duration.ofSeconds(90);

    private static final long POLL_MILLIS = 20;

    private Wait() {}

    /** Waits up to {@link #DEFAULT} for {@code condition}; fails naming {@code what}. */
    public static void until(String what, Condition condition) throws InterruptedException {
        until(what, DEFAULT, condition);
    }

    /**
     * Polls {@code condition} until it holds; after {@code timeout} fails with "timed out waiting for
     * {@code what}", carrying the condition's last exception (if it threw) as the cause.
     */
    public static void until(String what, Duration timeout, Condition condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (condition.holds()) return;
                last = null;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) throw new AssertionError("timed out waiting for " + what, last);
            Thread.sleep(POLL_MILLIS);
        }
    }
}
