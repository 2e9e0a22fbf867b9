package kiri.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * A cumulative histogram with fixed bucket bounds, in the caller's integer unit (nanoseconds, bytes, counts),
 * exposed in a base unit (seconds: divided by 1e9). {@link #record} is lock-free and allocation-free: a short scan of
 * the bounds and two striped adders, so any number of threads may record concurrently. A scrape reads the
 * adders without stopping writers, so a concurrent scrape may see a bucket count and the sum from slightly
 * different moments, as with any Prometheus client.
 */
public final class Histogram {
    /** Request latencies: 100 µs to 10 s, in nanoseconds. */
    private static final long[] LATENCY_NANOS = {100_000L, 250_000L, 500_000L, 1_000_000L, 2_500_000L, 5_000_000L,
            10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L, 250_000_000L, 500_000_000L, 1_000_000_000L,
            2_500_000_000L, 5_000_000_000L, 10_000_000_000L};
    /** Fsync latencies: 50 µs to 1 s, in nanoseconds. */
    private static final long[] FSYNC_NANOS = {50_000L, 100_000L, 250_000L, 500_000L, 1_000_000L, 2_500_000L,
            5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L, 250_000_000L, 1_000_000_000L};
    /** Sizes that grow by powers of four: 1 to 4096. */
    private static final long[] COUNTS = {1, 4, 16, 64, 256, 1024, 4096};

    private final long[] bounds;
    private final LongAdder[] buckets;
    private final LongAdder sum = new LongAdder();

    /** @param bounds the buckets' inclusive upper bounds, ascending; a +Inf bucket follows them */
    public Histogram(long... bounds) {
        for (int i = 1; i < bounds.length; i++) {
            if (bounds[i] <= bounds[i - 1]) throw new IllegalArgumentException("bounds must ascend");
        }
        this.bounds = bounds.clone();
        this.buckets = new LongAdder[bounds.length + 1];
        for (int i = 0; i < buckets.length; i++) buckets[i] = new LongAdder();
    }

    /** For request latencies in nanoseconds (expose with {@code unitsPerBase} 1e9). */
    public static Histogram requestLatency() {
        return new Histogram(LATENCY_NANOS);
    }

    /** For fsync latencies in nanoseconds (expose with {@code unitsPerBase} 1e9). */
    public static Histogram fsyncLatency() {
        return new Histogram(FSYNC_NANOS);
    }

    /** For small counts: how many things one round or batch held. */
    public static Histogram counts() {
        return new Histogram(COUNTS);
    }

    public void record(long value) {
        int i = 0;
        while (i < bounds.length && value > bounds[i]) i++;
        buckets[i].increment();
        sum.add(value);
    }

    /** How many values were recorded (a snapshot). */
    public long count() {
        long n = 0;
        for (LongAdder b : buckets) n += b.sum();
        return n;
    }

    /**
     * Writes this histogram's samples ({@code _bucket} with {@code le}, {@code _sum}, {@code _count}) of the family
     * {@code name} (the caller wrote its header), with values divided by {@code unitsPerBase} (a division, so that
     * bounds such as 100 µs print as 1.0E-4 exactly) and the given labels.
     */
    public void writeTo(MetricWriter w, String name, double unitsPerBase, String... labels) {
        String[] withLe = new String[labels.length + 2];
        System.arraycopy(labels, 0, withLe, 0, labels.length);
        withLe[labels.length] = "le";
        long cumulative = 0;
        for (int i = 0; i < buckets.length; i++) {
            cumulative += buckets[i].sum();
            withLe[labels.length + 1] = i < bounds.length ? bound(bounds[i] / unitsPerBase) : "+Inf";
            w.sample(name + "_bucket", cumulative, withLe);
        }
        w.sample(name + "_sum", sum.sum() / unitsPerBase, labels);
        w.sample(name + "_count", cumulative, labels);
    }

    private static String bound(double value) {
        StringBuilder b = new StringBuilder();
        new MetricWriter(b).number(value);
        return b.toString();
    }
}
