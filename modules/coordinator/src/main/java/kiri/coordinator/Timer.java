package kiri.coordinator;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The coordinator's clock and scheduler: session and rebalance timeouts are delayed tasks, never
 * polling. Production uses one scheduler thread ({@link #of}); tests drive a manual timer.
 *
 * <p>Threading: {@link #schedule} may be called from any thread; tasks run on the timer's thread
 * (one at a time for {@link #of} over a single-threaded executor).
 */
public interface Timer {
    /** A scheduled task; cancelling one that already ran (or was cancelled) does nothing. */
    interface Task {
        void cancel();
    }

    long nowMs();

    Task schedule(long delayMs, Runnable task);

    /** Wall-clock time over {@code executor} (normally one thread, owned by the caller). */
    static Timer of(ScheduledExecutorService executor) {
        return new Timer() {
            @Override
            public long nowMs() {
                return System.currentTimeMillis();
            }

            @Override
            public Task schedule(long delayMs, Runnable task) {
                ScheduledFuture<?> f = executor.schedule(task, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
                return () -> f.cancel(false);
            }
        };
    }
}
