package kiri.storage.api;

import kiri.protocol.BigEndian;
import kiri.protocol.record.RecordBatch;
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
    public static final int SIZE = RecordBatch.HEADER_SIZE + 17;

    private static final short ATTRIBUTES = RecordBatch.TRANSACTIONAL_MASK | RecordBatch.CONTROL_MASK;

    /**
     * Writes a COMMIT or ABORT marker batch of {@link #SIZE} bytes at the start of {@code dst}, CRC included.
     */
    public static void write(MemorySegment dst, long baseOffset, int partitionLeaderEpoch, long producerId,
                             short producerEpoch, boolean commit, int coordinatorEpoch, long timestampMs) {
        MemorySegment b = dst.asSlice(0, SIZE);
        b.set(BigEndian.LONG, RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        b.set(BigEndian.INT, RecordBatch.BATCH_LENGTH_OFFSET, SIZE - RecordBatch.LOG_OVERHEAD);
        b.set(BigEndian.INT, RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        b.set(ValueLayout.JAVA_BYTE, RecordBatch.MAGIC_OFFSET, (byte) 2);
        b.set(BigEndian.SHORT, RecordBatch.ATTRIBUTES_OFFSET, ATTRIBUTES);
        b.set(BigEndian.INT, RecordBatch.LAST_OFFSET_DELTA_OFFSET, 0);
        b.set(BigEndian.LONG, RecordBatch.BASE_TIMESTAMP_OFFSET, timestampMs);
        b.set(BigEndian.LONG, RecordBatch.MAX_TIMESTAMP_OFFSET, timestampMs);
        b.set(BigEndian.LONG, RecordBatch.PRODUCER_ID_OFFSET, producerId);
        b.set(BigEndian.SHORT, RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        b.set(BigEndian.INT, RecordBatch.BASE_SEQUENCE_OFFSET, RecordBatch.NO_SEQUENCE);
        b.set(BigEndian.INT, RecordBatch.RECORD_COUNT_OFFSET, 1);
        long p = RecordBatch.HEADER_SIZE;
        // The record: every varint below is a single byte (zigzag of a small value).
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) (16 << 1)); // length of what follows
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) 0);          // attributes
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) 0);          // timestampDelta
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) 0);          // offsetDelta
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) (4 << 1));   // key length
        b.set(BigEndian.SHORT, p, (short) 0);         // key: version
        b.set(BigEndian.SHORT, p + 2, commit ? COMMIT : ABORT); // key: type
        p += 4;
        b.set(ValueLayout.JAVA_BYTE, p++, (byte) (6 << 1));   // value length
        b.set(BigEndian.SHORT, p, (short) 0);         // value: version
        b.set(BigEndian.INT, p + 2, coordinatorEpoch); // value: coordinator epoch
        p += 6;
        b.set(ValueLayout.JAVA_BYTE, p, (byte) 0);            // header count
        b.set(BigEndian.INT, RecordBatch.CRC_OFFSET, (int) RecordBatch.computeCrc(b));
    }

    /** The control type of a marker batch's record: {@link #COMMIT} or {@link #ABORT} (or another control type). */
    public static short type(MemorySegment controlBatch) {
        return controlBatch.get(BigEndian.SHORT, keyOffset(controlBatch) + 2);
    }

    public static boolean isCommit(MemorySegment controlBatch) {
        return type(controlBatch) == COMMIT;
    }

    /** The coordinator epoch in a marker's value. */
    public static int coordinatorEpoch(MemorySegment controlBatch) {
        long p = keyOffset(controlBatch);
        p += 4; // key: version + type
        p = skipVarint(controlBatch, p); // value length
        return controlBatch.get(BigEndian.INT, p + 2);
    }

    /** Offset of the first record's key, parsing the varints before it (markers written by others may use longer encodings). */
    private static long keyOffset(MemorySegment batch) {
        long p = RecordBatch.HEADER_SIZE;
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
