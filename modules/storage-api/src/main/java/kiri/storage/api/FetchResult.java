package kiri.storage.api;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import kiri.protocol.Records;

/**
 * What a fetch of one partition returns: batch bytes (zero or more {@link Records.Region}s, in offset
 * order) plus the partition's offset stages and, for READ_COMMITTED, the aborted transactions that
 * overlap the returned range.
 *
 * <p>Lifetime: the regions stay valid until {@link #close()}; the engine may pin memory or files for
 * them (a reference count, a segment that must not be deleted by retention meanwhile). The router
 * closes the result once the response bytes have been written to the socket (or copied), exactly once
 * per result; closing again is a no-op. {@code close()} may run on any thread and must not block.
 */
public final class FetchResult implements AutoCloseable {
    private static final VarHandle RELEASE;

    static {
        try {
            RELEASE = MethodHandles.lookup().findVarHandle(FetchResult.class, "release", Runnable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long highWatermark;
    private final long lastStableOffset;
    private final long logStartOffset;
    private final List<Records.Region> batches;
    private final List<AbortedTransaction> abortedTransactions;
    private final long byteSize;
    @SuppressWarnings("unused") // accessed through RELEASE
    private volatile Runnable release;

    /**
     * @param release run once by {@link #close()} to unpin what the regions reference; null if nothing is pinned
     */
    public FetchResult(long highWatermark, long lastStableOffset, long logStartOffset, List<Records.Region> batches,
                       List<AbortedTransaction> abortedTransactions, Runnable release) {
        this.highWatermark = highWatermark;
        this.lastStableOffset = lastStableOffset;
        this.logStartOffset = logStartOffset;
        this.batches = List.copyOf(batches);
        this.abortedTransactions = List.copyOf(abortedTransactions);
        long size = 0;
        for (Records.Region r : this.batches) size += r.byteSize();
        this.byteSize = size;
        this.release = release;
    }

    /** No batches: the fetch offset is at the fetchable end (or the engine keeps no records). */
    public static FetchResult empty(PartitionOffsets offsets) {
        return new FetchResult(offsets.highWatermark(), offsets.lastStableOffset(), offsets.logStartOffset(),
                List.of(), List.of(), null);
    }

    public long highWatermark() {
        return highWatermark;
    }

    public long lastStableOffset() {
        return lastStableOffset;
    }

    public long logStartOffset() {
        return logStartOffset;
    }

    public PartitionOffsets offsets() {
        return new PartitionOffsets(logStartOffset, lastStableOffset, highWatermark);
    }

    /** The batch bytes, in offset order; valid until {@link #close()}. */
    public List<Records.Region> batches() {
        return batches;
    }

    /** Aborted transactions overlapping the returned batches (READ_COMMITTED only, else empty). */
    public List<AbortedTransaction> abortedTransactions() {
        return abortedTransactions;
    }

    /** Total bytes over all regions: the size of the response's records field. */
    public long byteSize() {
        return byteSize;
    }

    public boolean isEmpty() {
        return byteSize == 0;
    }

    /** Releases what the regions pin. Idempotent; any thread; never blocks. */
    @Override
    public void close() {
        Runnable r = (Runnable) RELEASE.getAndSet(this, (Runnable) null);
        if (r != null) r.run();
    }
}
