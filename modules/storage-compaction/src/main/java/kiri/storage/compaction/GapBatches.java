package kiri.storage.compaction;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.RecordBatchHeader;

/**
 * Empty v2 batches that stand for a run of batches a cleaner dropped: no records, no producer, spanning the run's
 * offsets (base offset and last offset delta), so a cleaned log stays contiguous batch to batch (what the
 * {@code file:} engine's recovery checks) while consumers, as with Kafka's own empty batches, just move past them.
 */
public final class GapBatches {
    /** The bytes of one gap batch. */
    public static final int SIZE = RecordBatchHeader.HEADER_SIZE;
    /** The widest run one gap batch spans (its last offset delta is an int). */
    public static final long MAX_SPAN = Integer.MAX_VALUE;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private GapBatches() {
    }

    /**
     * Writes at the start of {@code dst} (at least {@link #SIZE} bytes) the gap batch for offsets {@code [base, next)}
     * ({@code next - base <= MAX_SPAN}), timestamped {@code maxTimestamp} (the dropped batches' largest).
     */
    public static MemorySegment write(MemorySegment dst, long base, long next, long maxTimestamp) {
        MemorySegment b = dst.asSlice(0, SIZE);
        b.set(LONG, RecordBatchHeader.BASE_OFFSET, base);
        b.set(INT, RecordBatchHeader.BATCH_LENGTH, SIZE - RecordBatchHeader.LOG_OVERHEAD);
        b.set(INT, RecordBatchHeader.PARTITION_LEADER_EPOCH, 0);
        b.set(ValueLayout.JAVA_BYTE, RecordBatchHeader.MAGIC, (byte) 2);
        b.set(SHORT, RecordBatchHeader.ATTRIBUTES, (short) 0);
        b.set(INT, RecordBatchHeader.LAST_OFFSET_DELTA, (int) (next - base - 1));
        b.set(LONG, RecordBatchHeader.BASE_TIMESTAMP, maxTimestamp);
        b.set(LONG, RecordBatchHeader.MAX_TIMESTAMP, maxTimestamp);
        b.set(LONG, RecordBatchHeader.PRODUCER_ID, RecordBatchHeader.NO_PRODUCER_ID);
        b.set(SHORT, RecordBatchHeader.PRODUCER_EPOCH, (short) -1);
        b.set(INT, RecordBatchHeader.BASE_SEQUENCE, RecordBatchHeader.NO_SEQUENCE);
        b.set(INT, RecordBatchHeader.RECORD_COUNT, 0);
        new RecordBatch().wrap(b, 0).writeCrc();
        return b;
    }
}
