package kiri.metrics;

/**
 * Something that reports its own metrics at scrape time, such as a storage engine (fsync latencies) found
 * behind the storage SPI with {@code instanceof}. Called on the metrics endpoint's thread, once per scrape;
 * must not block for long, and must write whole families (header, then all of its samples).
 */
public interface MetricSource {
    void writeMetrics(MetricWriter writer);
}
