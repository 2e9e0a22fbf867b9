package kiri.protocol.record;

import kiri.protocol.BigEndian;
import java.lang.foreign.MemorySegment;
import java.util.List;
import kiri.protocol.ProtocolException;

/**
 * Control batches: the COMMIT/ABORT markers a transaction coordinator writes into each partition
 * a transaction touched, and reading the control records back.
 *
 * <p>A marker batch is transactional and control, carries the producer's id and epoch, no base
 * sequence, and one record: key = version int16 (0) + type int16 (0 abort, 1 commit), value =
 * version int16 (0) + coordinatorEpoch int32. Stateless and thread-safe.
 */
public final class ControlBatch {
    /** The control record key version Kiri writes. */
    public static final short KEY_VERSION = 0;
    /** The end-transaction marker value version Kiri writes. */
    public static final short END_TXN_MARKER_VALUE_VERSION = 0;
    static final int KEY_SIZE = 4;
    static final int END_TXN_MARKER_VALUE_SIZE = 6;
    /** Exact size of an end-transaction marker batch (header + one 17-byte record). */
    public static final int END_TXN_MARKER_BATCH_SIZE = RecordBatch.HEADER_SIZE
            + RecordBatchBuilder.recordSize(0, 0, KEY_SIZE, END_TXN_MARKER_VALUE_SIZE, List.of());

    private ControlBatch() {
    }

    /**
     * Writes a COMMIT or ABORT marker batch of {@link #END_TXN_MARKER_BATCH_SIZE} bytes at
     * {@code offset} of {@code target} and returns its size.
     */
    public static int writeEndTxnMarker(MemorySegment target, long offset, long baseOffset, long timestamp,
                                        int partitionLeaderEpoch, long producerId, short producerEpoch,
                                        ControlRecordType type, int coordinatorEpoch) {
        if (type != ControlRecordType.COMMIT && type != ControlRecordType.ABORT) {
            throw new IllegalArgumentException("an end-transaction marker is COMMIT or ABORT, not " + type);
        }
        // Markers are rare (one per partition per transaction): clarity over allocation here.
        MemorySegment key = MemorySegment.ofArray(new byte[KEY_SIZE]);
        key.set(BigEndian.SHORT, 0, KEY_VERSION);
        key.set(BigEndian.SHORT, 2, type.type());
        MemorySegment value = MemorySegment.ofArray(new byte[END_TXN_MARKER_VALUE_SIZE]);
        value.set(BigEndian.SHORT, 0, END_TXN_MARKER_VALUE_VERSION);
        value.set(BigEndian.INT, 2, coordinatorEpoch);
        return new RecordBatchBuilder()
                .wrap(target, offset, END_TXN_MARKER_BATCH_SIZE)
                .baseOffset(baseOffset)
                .partitionLeaderEpoch(partitionLeaderEpoch)
                .producer(producerId, producerEpoch, RecordBatch.NO_SEQUENCE)
                .transactional(true)
                .control(true)
                .append(timestamp, key, value)
                .build();
    }

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
        short version = key.get(BigEndian.SHORT, 0);
        if (version < 0) {
            throw new ProtocolException("control record key has negative version " + version);
        }
        return ControlRecordType.forType(key.get(BigEndian.SHORT, 2));
    }

    /**
     * The coordinator epoch in an end-transaction marker's value.
     *
     * @throws ProtocolException if the value is null, shorter than 6 bytes or has a negative version
     */
    public static int coordinatorEpoch(MemorySegment value) {
        if (value == null || value.byteSize() < END_TXN_MARKER_VALUE_SIZE) {
            throw new ProtocolException("end-transaction marker value must have at least " + END_TXN_MARKER_VALUE_SIZE
                    + " bytes, has " + (value == null ? "none (null)" : value.byteSize()));
        }
        short version = value.get(BigEndian.SHORT, 0);
        if (version < 0) {
            throw new ProtocolException("end-transaction marker value has negative version " + version);
        }
        return value.get(BigEndian.INT, 2);
    }
}
