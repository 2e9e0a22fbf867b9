package kiri.router;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import kiri.metrics.MetricWriter;

/**
 * Bytes and records in (produced and stored) and bytes out (fetched) per topic. Counting is one hash lookup
 * (topic names come from the decoder's string cache, so their hash is cached) and striped adders: no locks, no
 * allocation once a topic has its counters. Thread-safe. Counters of deleted topics are dropped at scrape time.
 */
public final class TopicMetrics {
    /** One topic's counters. */
    public static final class Counters {
        final LongAdder bytesIn = new LongAdder();
        final LongAdder recordsIn = new LongAdder();
        final LongAdder bytesOut = new LongAdder();

        public long bytesIn() {
            return bytesIn.sum();
        }

        public long recordsIn() {
            return recordsIn.sum();
        }

        public long bytesOut() {
            return bytesOut.sum();
        }
    }

    private final Map<String, Counters> topics = new ConcurrentHashMap<>();

    /** The counters of {@code topic}, created on first use. */
    public Counters of(String topic) {
        Counters c = topics.get(topic); // get first: computeIfAbsent may lock the bin even when present
        return c != null ? c : topics.computeIfAbsent(topic, t -> new Counters());
    }

    /** A batch of {@code records} records, {@code bytes} long, was stored in {@code topic}. */
    public void in(String topic, int records, long bytes) {
        Counters c = of(topic);
        c.recordsIn.add(records);
        c.bytesIn.add(bytes);
    }

    /** A fetch response carries {@code bytes} of {@code topic}'s batches. */
    public void out(String topic, long bytes) {
        of(topic).bytesOut.add(bytes);
    }

    /** Writes the counters of the topics in {@code existing}, and forgets the others (deleted topics). */
    public void writeTo(MetricWriter w, Set<String> existing) {
        topics.keySet().retainAll(existing);
        w.family("kiri_topic_bytes_in_total", "counter", "Bytes of record batches produced to the topic and stored.");
        topics.forEach((t, c) -> w.sample("kiri_topic_bytes_in_total", c.bytesIn.sum(), "topic", t));
        w.family("kiri_topic_records_in_total", "counter", "Records produced to the topic and stored.");
        topics.forEach((t, c) -> w.sample("kiri_topic_records_in_total", c.recordsIn.sum(), "topic", t));
        w.family("kiri_topic_bytes_out_total", "counter", "Bytes of record batches sent to fetchers (consumers).");
        topics.forEach((t, c) -> w.sample("kiri_topic_bytes_out_total", c.bytesOut.sum(), "topic", t));
    }
}
