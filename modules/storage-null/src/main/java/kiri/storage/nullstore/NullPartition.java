package kiri.storage.nullstore;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.kit.DataWaiters;

/**
 * One partition of the null engine: an offset counter and the little state that makes offsets
 * consistent (log start, open transactions for the last stable offset, long-poll waiters).
 */
final class NullPartition {
    private static final VarHandle NEXT;

    static {
        try {
            NEXT = MethodHandles.lookup().findVarHandle(NullPartition.class, "next", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The next offset to assign: the high watermark. Moved only by {@link #reserve}, lock-free. */
    @SuppressWarnings("unused") // accessed through NEXT
    private volatile long next;
    private volatile long logStart;
    /** Open transactions by producer id; guarded by this. Non-empty iff {@code openCount > 0}. */
    private final Map<Long, ActiveProducer> open = new HashMap<>();
    private volatile int openCount;

    final DataWaiters waiters = new DataWaiters(this::highWatermark);

    /** Assigns {@code count} offsets and returns the first: one atomic add, the whole produce path. */
    long reserve(long count) {
        return (long) NEXT.getAndAdd(this, count);
    }

    long highWatermark() {
        return next;
    }

    long logStart() {
        return logStart;
    }

    PartitionOffsets offsets() {
        long ls = logStart;
        long hwm = next;
        if (openCount == 0) return new PartitionOffsets(ls, hwm, hwm);
        synchronized (this) {
            hwm = next;
            long lso = hwm;
            for (ActiveProducer p : open.values()) lso = Math.min(lso, p.currentTxnStartOffset());
            return new PartitionOffsets(ls, Math.max(ls, lso), hwm);
        }
    }

    /** A transactional batch of {@code count} offsets: assigned under the lock with the transaction's start, so the LSO is never ahead. */
    synchronized long reserveTransactional(long producerId, short epoch, long count) {
        long base = reserve(count);
        if (!open.containsKey(producerId)) {
            open.put(producerId, new ActiveProducer(producerId, epoch, -1, -1L, -1, base));
            openCount = open.size();
        }
        return base;
    }

    /** A transaction marker: one offset, and the producer's transaction on this partition is over. */
    synchronized long writeMarker(long producerId) {
        long offset = reserve(1);
        open.remove(producerId);
        openCount = open.size();
        return offset;
    }

    /** DeleteRecords: never moves back; {@code before} is already checked against the high watermark. */
    synchronized long advanceLogStart(long before) {
        if (before > logStart) logStart = before;
        return logStart;
    }

    synchronized List<ActiveProducer> activeProducers() {
        return new ArrayList<>(open.values());
    }
}
