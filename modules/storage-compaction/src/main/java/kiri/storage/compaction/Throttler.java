package kiri.storage.compaction;

/**
 * Bounds a cleaner's I/O to a rate (Kafka's {@code log.cleaner.io.max.bytes.per.second}) by sleeping the
 * cleaner's own thread, so cleaning never starves produce of disk bandwidth. One per cleaner thread; not
 * thread-safe.
 */
public final class Throttler {
    private final double bytesPerSecond;
    private long periodStartNanos = System.nanoTime();
    private long bytesInPeriod;

    /** {@code bytesPerSecond <= 0} or infinite: no limit. */
    public Throttler(double bytesPerSecond) {
        this.bytesPerSecond = bytesPerSecond;
    }

    /** Accounts {@code bytes} of I/O, sleeping long enough to keep the average at or below the rate. */
    public void acquire(long bytes) throws InterruptedException {
        if (bytesPerSecond <= 0 || Double.isInfinite(bytesPerSecond)) return;
        bytesInPeriod += bytes;
        long elapsed = System.nanoTime() - periodStartNanos;
        long due = (long) (bytesInPeriod / bytesPerSecond * 1e9);
        if (due > elapsed) {
            long sleep = due - elapsed;
            Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        }
        if (elapsed > 1_000_000_000L) { // a fresh period each second: an idle spell does not bank a burst
            periodStartNanos = System.nanoTime();
            bytesInPeriod = 0;
        }
    }
}
