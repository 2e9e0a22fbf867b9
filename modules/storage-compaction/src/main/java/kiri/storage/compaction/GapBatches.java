package kiri.storage.compaction;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kiri.protocol.record.RecordBatch;

/**
 * Empty v2 batches that stand for a run of batches a cleaner dropped: no records, no producer, spanning the run's
 * offsets (base offset and last offset delta), so a cleaned log stays contiguous batch to batch (what the
 * {@code file:} engine's recovery checks) while consumers, as with Kafka's own empty batches, just move past them.
 */
public final class GapBatches {
    /** The bytes of one gap batch. */
    public static final int SIZE = RecordBatch.HEADER_SIZE;
    /** The widest run one gap batch spans (its last offset delta is an int). */
    public static final long MAX_SPAN = Integer.MAX_VALUE;

    private GapBatches() {
    }

    /**
     * Writes at the start of {@code dst} (at least {@link #SIZE} bytes) the gap batch for offsets {@code [base, next)}
     * ({@code next - base <= MAX_SPAN}), timestamped {@code maxTimestamp} (the dropped batches' largest).
     */
    public static MemorySegment write(MemorySegment dst, long base, long next, long maxTimestamp) {
        MemorySegment b = dst.asSlice(0, SIZE);
        b.set(LONG, RecordBatch.BASE_OFFSET_OFFSET, base);
        b.set(INT, RecordBatch.BATCH_LENGTH_OFFSET, SIZE - RecordBatch.LOG_OVERHEAD);
        b.set(INT, RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, 0);
        b.set(ValueLayout.JAVA_BYTE, RecordBatch.MAGIC_OFFSET, (byte) 2);
        b.set(SHORT, RecordBatch.ATTRIBUTES_OFFSET, (short) 0);
        b.set(INT, RecordBatch.LAST_OFFSET_DELTA_OFFSET, (int) (next - base - 1));
        b.set(LONG, RecordBatch.BASE_TIMESTAMP_OFFSET, maxTimestamp);
        b.set(LONG, RecordBatch.MAX_TIMESTAMP_OFFSET, maxTimestamp);
        b.set(LONG, RecordBatch.PRODUCER_ID_OFFSET, RecordBatch.NO_PRODUCER_ID);
        b.set(SHORT, RecordBatch.PRODUCER_EPOCH_OFFSET, (short) -1);
        b.set(INT, RecordBatch.BASE_SEQUENCE_OFFSET, RecordBatch.NO_SEQUENCE);
        b.set(INT, RecordBatch.RECORD_COUNT_OFFSET, 0);
        new RecordBatch().wrap(b, 0).writeCrc();
        return b;
    }
}
