package kiri.protocol.record;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kiri.protocol.ProtocolException;

/**
 * Control batches: the COMMIT/ABORT markers (Kafka's {@code EndTransactionMarker}) an engine appends
 * to each partition a transaction touched when it ends, and reading them back. A marker occupies one
 * offset; a COMMIT makes the producer's records visible to READ_COMMITTED consumers, an ABORT adds an
 * aborted-transaction range.
 *
 * <p>A marker batch is transactional and control, carries the producer's id and epoch, no base
 * sequence, and one record: key = version int16 (0) + type int16 (0 abort, 1 commit), value =
 * version int16 (0) + coordinatorEpoch int32. Stateless, allocation-free and thread-safe for
 * distinct segments.
 */
public final class ControlBatch {
    /** The control record key version Kiri writes. */
    public static final short KEY_VERSION = 0;
    /** The end-transaction marker value version Kiri writes. */
    public static final short END_TXN_MARKER_VALUE_VERSION = 0;
    static final int KEY_SIZE = 4;
    static final int END_TXN_MARKER_VALUE_SIZE = 6;
    /** Bytes of a marker batch: the 61-byte header plus one 17-byte control record. */
    public static final int SIZE = RecordBatch.HEADER_SIZE + 17;

    private static final short ATTRIBUTES = RecordBatch.TRANSACTIONAL_MASK | RecordBatch.CONTROL_MASK;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private ControlBatch() {
    }

    /** Writes a COMMIT or ABORT marker batch of {@link #SIZE} bytes at the start of {@code dst}, CRC included. */
    public static void write(MemorySegment dst, long baseOffset, int partitionLeaderEpoch, long producerId,
                             short producerEpoch, boolean commit, int coordinatorEpoch, long timestampMs) {
        MemorySegment b = dst.asSlice(0, SIZE);
        b.set(LONG, RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        b.set(INT, RecordBatch.BATCH_LENGTH_OFFSET, SIZE - RecordBatch.LOG_OVERHEAD);
        b.set(INT, RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        b.set(BYTE, RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC_V2);
        b.set(SHORT, RecordBatch.ATTRIBUTES_OFFSET, ATTRIBUTES);
        b.set(INT, RecordBatch.LAST_OFFSET_DELTA_OFFSET, 0);
        b.set(LONG, RecordBatch.BASE_TIMESTAMP_OFFSET, timestampMs);
        b.set(LONG, RecordBatch.MAX_TIMESTAMP_OFFSET, timestampMs);
        b.set(LONG, RecordBatch.PRODUCER_ID_OFFSET, producerId);
        b.set(SHORT, RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        b.set(INT, RecordBatch.BASE_SEQUENCE_OFFSET, RecordBatch.NO_SEQUENCE);
        b.set(INT, RecordBatch.RECORD_COUNT_OFFSET, 1);
        long p = RecordBatch.HEADER_SIZE;
        // The record: every varint below is a single byte (zigzag of a small value).
        b.set(BYTE, p++, (byte) (16 << 1)); // length of what follows
        b.set(BYTE, p++, (byte) 0);          // attributes
        b.set(BYTE, p++, (byte) 0);          // timestampDelta
        b.set(BYTE, p++, (byte) 0);          // offsetDelta
        b.set(BYTE, p++, (byte) (KEY_SIZE << 1)); // key length
        b.set(SHORT, p, KEY_VERSION);
        b.set(SHORT, p + 2, (commit ? ControlRecordType.COMMIT : ControlRecordType.ABORT).type());
        p += KEY_SIZE;
        b.set(BYTE, p++, (byte) (END_TXN_MARKER_VALUE_SIZE << 1)); // value length
        b.set(SHORT, p, END_TXN_MARKER_VALUE_VERSION);
        b.set(INT, p + 2, coordinatorEpoch);
        p += END_TXN_MARKER_VALUE_SIZE;
        b.set(BYTE, p, (byte) 0);            // header count
        b.set(INT, RecordBatch.CRC_OFFSET, (int) RecordBatch.computeCrc(b));
    }

    // ---- reading a marker batch (at offset 0 of the segment) ----

    /** The control type of a marker batch's first record ({@link ControlRecordType#UNKNOWN} for a type Kafka added later). */
    public static ControlRecordType type(MemorySegment controlBatch) {
        return ControlRecordType.forType(controlBatch.get(SHORT, keyOffset(controlBatch) + 2));
    }

    public static boolean isCommit(MemorySegment controlBatch) {
        return type(controlBatch) == ControlRecordType.COMMIT;
    }

    /** The coordinator epoch in a marker batch's record value. */
    public static int coordinatorEpoch(MemorySegment controlBatch) {
        long p = keyOffset(controlBatch);
        p += KEY_SIZE; // key: version + type
        p = skipVarint(controlBatch, p); // value length
        return controlBatch.get(INT, p + 2);
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
            if ((s.get(BYTE, p++) & 0x80) == 0) return p;
        }
        throw new ProtocolException("malformed varint in control record");
    }

    // ---- reading a control record's key and value (e.g. from a RecordCursor) ----

    /**
     * The type of a control record from its key.
     *
     * @throws ProtocolException if the key is null, shorter than 4 bytes or has a negative version
     */
    public static ControlRecordType recordType(MemorySegment key) {
        if (key == null || key.byteSize() < KEY_SIZE) {
            throw new ProtocolException("control record key must have at least " + KEY_SIZE + " bytes, has "
                    + (key == null ? "none (null)" : key.byteSize()));
        }
        short version = key.get(SHORT, 0);
        if (version < 0) {
            throw new ProtocolException("control record key has negative version " + version);
        }
        return ControlRecordType.forType(key.get(SHORT, 2));
    }

    /**
     * The coordinator epoch in an end-transaction marker record's value.
     *
     * @throws ProtocolException if the value is null, shorter than 6 bytes or has a negative version
     */
    public static int recordCoordinatorEpoch(MemorySegment value) {
        if (value == null || value.byteSize() < END_TXN_MARKER_VALUE_SIZE) {
            throw new ProtocolException("end-transaction marker value must have at least " + END_TXN_MARKER_VALUE_SIZE
                    + " bytes, has " + (value == null ? "none (null)" : value.byteSize()));
        }
        short version = value.get(SHORT, 0);
        if (version < 0) {
            throw new ProtocolException("end-transaction marker value has negative version " + version);
        }
        return value.get(INT, 2);
    }
}
