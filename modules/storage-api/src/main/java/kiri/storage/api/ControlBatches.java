package kiri.storage.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kiri.protocol.ErrorCode;

/**
 * Transaction markers: the one-record control batches an engine appends to every partition of a
 * transaction when it ends (Kafka's {@code EndTransactionMarker}). A marker occupies one offset; a
 * COMMIT makes the producer's records visible to READ_COMMITTED consumers, an ABORT adds an
 * aborted-transaction range. Thread-safe for distinct segments.
 */
public final class ControlBatches {
    private ControlBatches() {}

    /** Kafka's control record types (the {@code type} field of the control record key). */
    public static final short ABORT = 0;
    public static final short COMMIT = 1;

    /** Bytes of a marker batch: the 61-byte header plus one 17-byte control record. */
    public static final int SIZE = RecordBatchHeader.HEADER_SIZE + 17;

    private static final short ATTRIBUTES = RecordBatchHeader.TRANSACTIONAL_FLAG | RecordBatchHeader.CONTROL_FLAG;

    /**
     * Writes a COMMIT or ABORT marker batch of {@link #SIZE} bytes at the start of {@code dst}, CRC included.
     */
    public static void write(MemorySegment dst, long baseOffset, int partitionLeaderEpoch, long producerId,
                             short producerEpoch, boolean commit, int coordinatorEpoch, long timestampMs) {
        MemorySegment b = dst.asSlice(0, SIZE);
        b.set(RecordBatchHeader.LONG, RecordBatchHeader.BASE_OFFSET, baseOffset);
        b.set(RecordBatchHeader.INT, RecordBatchHeader.BATCH_LENGTH, SIZE - RecordBatchHeader.LOG_OVERHEAD);
        b.set(RecordBatchHeader.INT, RecordBatchHeader.PARTITION_LEADER_EPOCH, partitionLeaderEpoch);
        b.set(ValueLayout.JAVA_BYTE, RecordBatchHeader.MAGIC, (byte) 2);
        b.set(RecordBatchHeader.SHORT, RecordBatchHeader.ATTRIBUTES, ATTRIBUTES);
        b.set(RecordBatchHeader.INT, RecordBatchHeader.LAST_OFFSET_DELTA, 0);
        b.set(RecordBatchHeader.LONG, RecordBatchHeader.BASE_TIMESTAMP, timestampMs);
        b.set(RecordBatchHeader.LONG, RecordBatchHeader.MAX_TIMESTAMP, timestampMs);
        b.set(RecordBatchHeader.LONG, RecordBatchHeader.PRODUCER_ID, producerId);
        b.set(RecordBatchHeader.SHORT, RecordBatchHeader.PRODUCER_EPOCH, producerEpoch);
        b.set(RecordBatchHeader.INT, RecordBatchHeader.BASE_SEQUENCE, RecordBatchHeader.NO_SEQUENCE);
        b.set(RecordBatchHeader.INT, RecordBatchHeader.RECORD_COUNT, 1);
        long p = RecordBatchHeader.HEADER_SIZE;
        // The record: every varint below is a single byte (zigzag of a small value).
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) (16 << 1)); // length of what follows
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) 0);          // attributes
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) 0);          // timestampDelta
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) 0);          // offsetDelta
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) (4 << 1));   // key length
        b.set(RecordBatchHeader.SHORT, p, (short) 0);         // key: version
        b.set(RecordBatchHeader.SHORT, p + 2, commit ? COMMIT : ABORT); // key: type
        p += 4;
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) (6 << 1));   // value length
        b.set(RecordBatchHeader.SHORT, p, (short) 0);         // value: version
        b.set(RecordBatchHeader.INT, p + 2, coordinatorEpoch); // value: coordinator epoch
        p += 6;
        b.set(ValueLayout.JAVA_BYTE, p, (byte) 0);            // header count
        b.set(RecordBatchHeader.INT, RecordBatchHeader.CRC, RecordBatchHeader.computeCrc(b));
    }

    /** The control type of a marker batch's record: {@link #COMMIT} or {@link #ABORT} (or another control type). */
    public static short type(MemorySegment controlBatch) {
        return controlBatch.get(RecordBatchHeader.SHORT, keyOffset(controlBatch) + 2);
    }

    public static boolean isCommit(MemorySegment controlBatch) {
        return type(controlBatch) == COMMIT;
    }

    /** The coordinator epoch in a marker's value. */
    public static int coordinatorEpoch(MemorySegment controlBatch) {
        long p = keyOffset(controlBatch);
        p += 4; // key: version + type
        p = skipVarint(controlBatch, p); // value length
        return controlBatch.get(RecordBatchHeader.INT, p + 2);
    }

    /** Offset of the first record's key, parsing the varints before it (markers written by others may use longer encodings). */
    private static long keyOffset(MemorySegment batch) {
        long p = RecordBatchHeader.HEADER_SIZE;
        p = skipVarint(batch, p); // record length
        p += 1;                   // attributes
        p = skipVarint(batch, p); // timestampDelta
        p = skipVarint(batch, p); // offsetDelta
        return skipVarint(batch, p); // key length
    }

    private static long skipVarint(MemorySegment s, long p) {
        for (int i = 0; i < 10; i++) {
            if ((s.get(ValueLayout.JAVA_BYTE, p++) & 0x80) == 0) return p;
        }
        throw new StorageException(ErrorCode.CORRUPT_MESSAGE, "malformed varint in control record");
    }
}
