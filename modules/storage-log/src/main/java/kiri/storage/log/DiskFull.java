package kiri.storage.log;

import kiri.storage.api.TopicPartition;

/**
 * One partition's failed writes (usually a full disk), reported at WARN at most once a {@link #REPORT_INTERVAL_NS}
 * with the count of failures in between, so that a producer retrying against a full disk does not flood the log; and
 * one INFO line once a write works again. Produce answers KAFKA_STORAGE_ERROR meanwhile (Kafka's answer); nothing
 * needs a restart. Any thread.
 */
final class DiskFull {
    static final System.Logger LOG = System.getLogger("kiri.storage.log");
    static final long REPORT_INTERVAL_NS = 60_000_000_000L;

    private final TopicPartition tp;
    private volatile boolean failing;
    private long lastReportNs; // guarded by this
    private int unreported; // guarded by this

    DiskFull(TopicPartition tp) {
        this.tp = tp;
    }

    void writeFailed(Exception e) {
        synchronized (this) {
            long now = System.nanoTime();
            if (failing && now - lastReportNs < REPORT_INTERVAL_NS) {
                unreported++;
                return;
            }
            failing = true;
            lastReportNs = now;
            String more = unreported > 0 ? " (and " + unreported + " more failed writes since the last report)" : "";
            unreported = 0;
            LOG.log(System.Logger.Level.WARNING, "cannot write to " + tp + ": " + e.getMessage() + more
                    + "; producers get KAFKA_STORAGE_ERROR until writes work again (free space, or delete topics or records)");
        }
    }

    /** After every successful write: one volatile read unless the partition was failing. */
    void writeSucceeded() {
        if (!failing) return;
        synchronized (this) {
            if (!failing) return;
            failing = false;
            unreported = 0;
        }
        LOG.log(System.Logger.Level.INFO, "writes to " + tp + " work again");
    }
}
