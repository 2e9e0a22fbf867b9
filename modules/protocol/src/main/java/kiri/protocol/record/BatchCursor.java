package kiri.protocol.record;

import java.lang.foreign.MemorySegment;

/**
 * Walks the consecutive record batches of a records region (a produce request's or a fetch
 * response's records field, or a stored log segment) with one reused {@link RecordBatch}.
 *
 * <pre>{@code
 * BatchCursor batches = new BatchCursor().wrap(records);
 * while (batches.next()) {
 *     RecordBatch batch = batches.batch();
 *     BatchStatus status = batch.validate();
 *     ...
 * }
 * }</pre>
 *
 * <p>Every byte of the region is handed out: when the rest of the region cannot be a whole batch
 * (too short to read batchLength, batchLength too small, or larger than what is left), {@link #next}
 * still returns it once, so {@link RecordBatch#validate()} reports why, and then stops. Nothing is
 * allocated per batch. Lifetime and threading as for {@link RecordBatch}: valid while the region
 * is, one instance per thread.
 */
public final class BatchCursor {
    private final RecordBatch batch = new RecordBatch();
    private MemorySegment region = MemorySegment.NULL;
    private long position;
    private long next;

    /** Starts over at the beginning of {@code region}; the region's size bounds every batch. */
    public BatchCursor wrap(MemorySegment region) {
        this.region = region;
        this.position = 0;
        this.next = 0;
        return this;
    }

    /** Moves to the next batch; false once the region is exhausted. */
    public boolean next() {
        long size = region.byteSize();
        if (next >= size) {
            position = size;
            return false;
        }
        position = next;
        batch.wrap(region, position);
        next = end(batch);
        return true;
    }

    /**
     * Where the batch that {@code batch} wraps ends in its segment. A batch whose length cannot be
     * trusted swallows the rest of the segment: there is no next boundary to find.
     */
    private static long end(RecordBatch batch) {
        long available = batch.available();
        long size = available >= RecordBatch.LOG_OVERHEAD ? batch.sizeInBytes() : -1;
        boolean plausible = size >= RecordBatch.MIN_BATCH_LENGTH_TO_READ + RecordBatch.LOG_OVERHEAD && size <= available;
        return batch.offset() + (plausible ? size : available);
    }

    /** The current batch (the same instance every time, re-wrapped by {@link #next}). */
    public RecordBatch batch() {
        return batch;
    }

    /** Offset of the current batch in the region. */
    public long position() {
        return position;
    }

    /** Bytes of the region after the current batch. */
    public long remaining() {
        return region.byteSize() - next;
    }

    /** Receives each batch of a region; returns false to stop early. */
    @FunctionalInterface
    public interface Visitor {
        boolean visit(RecordBatch batch);
    }

    /**
     * Hands each batch of {@code region} to {@code visitor} through {@code flyweight}, delimited as
     * {@link #next} delimits them, and returns how many it visited. Allocates nothing.
     */
    public static int forEach(MemorySegment region, RecordBatch flyweight, Visitor visitor) {
        int visited = 0;
        long position = 0;
        while (position < region.byteSize()) {
            flyweight.wrap(region, position);
            long end = end(flyweight);
            visited++;
            if (!visitor.visit(flyweight)) {
                break;
            }
            position = end;
        }
        return visited;
    }

    /** Counts the batches of a region, as {@link #next} delimits them. */
    public static int count(MemorySegment region) {
        return forEach(region, new RecordBatch(), _ -> true);
    }
}
