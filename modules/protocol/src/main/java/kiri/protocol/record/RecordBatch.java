package kiri.protocol.record;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.zip.CRC32C;

/**
 * A flyweight over one Kafka record batch in the v2 format (magic 2), read in place from a
 * {@link MemorySegment}: every header field sits at a constant offset, nothing is copied.
 *
 * <p>Layout (big-endian): baseOffset int64, batchLength int32, partitionLeaderEpoch int32,
 * magic int8, crc uint32, attributes int16, lastOffsetDelta int32, baseTimestamp int64,
 * maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence int32, recordCount int32,
 * then the records. batchLength counts the bytes after itself; the CRC32C covers attributes to the
 * end, so baseOffset and partitionLeaderEpoch can be set in place without recomputing it.
 *
 * <p>Field getters do not check bounds beyond the segment's own: call {@link #validate()} (which
 * never throws) before trusting a batch from the network. Lifetime: the flyweight holds the
 * segment it wraps and is valid as long as that segment is; {@link #wrap} re-points it, so one
 * instance serves any number of batches. Not thread-safe: one instance per thread.
 *
 * <p>The static accessors ({@code baseOffset(MemorySegment)}, {@link #setBaseOffset}, ...) read and
 * patch the header of a batch that starts at offset 0 of the given segment, as storage engines hold
 * them (the router has validated header and CRC before a batch reaches {@code Storage.produce}). They
 * allocate nothing (except the CRC helpers) and are thread-safe for distinct segments.
 */
public final class RecordBatch {
    // Field offsets from the start of the batch: the one place the layout is written down.
    public static final int BASE_OFFSET_OFFSET = 0;
    public static final int BATCH_LENGTH_OFFSET = 8;
    public static final int PARTITION_LEADER_EPOCH_OFFSET = 12;
    public static final int MAGIC_OFFSET = 16;
    public static final int CRC_OFFSET = 17;
    public static final int ATTRIBUTES_OFFSET = 21;
    public static final int LAST_OFFSET_DELTA_OFFSET = 23;
    public static final int BASE_TIMESTAMP_OFFSET = 27;
    public static final int MAX_TIMESTAMP_OFFSET = 35;
    public static final int PRODUCER_ID_OFFSET = 43;
    public static final int PRODUCER_EPOCH_OFFSET = 51;
    public static final int BASE_SEQUENCE_OFFSET = 53;
    public static final int RECORD_COUNT_OFFSET = 57;
    /** Bytes of the v2 batch header; the first record starts here. */
    public static final int HEADER_SIZE = 61;
    /** baseOffset + batchLength: the bytes that batchLength does not count. */
    public static final int LOG_OVERHEAD = 12;
    /** Bytes needed to read the magic byte. */
    public static final int HEADER_SIZE_UP_TO_MAGIC = MAGIC_OFFSET + 1;
    /** Smallest batchLength Kafka will even look at (its legacy v0 record overhead). */
    static final int MIN_BATCH_LENGTH_TO_READ = 14;

    public static final byte MAGIC_V2 = 2;
    public static final long NO_PRODUCER_ID = -1L;
    public static final short NO_PRODUCER_EPOCH = -1;
    public static final int NO_SEQUENCE = -1;
    public static final int NO_PARTITION_LEADER_EPOCH = -1;
    public static final long NO_TIMESTAMP = -1L;

    // Bits of the attributes field.
    public static final int COMPRESSION_MASK = 0x07;
    public static final int TIMESTAMP_TYPE_MASK = 0x08;
    public static final int TRANSACTIONAL_MASK = 0x10;
    public static final int CONTROL_MASK = 0x20;
    public static final int DELETE_HORIZON_MASK = 0x40;

    // Fields sit at odd offsets (crc @17, attributes @21 ...): the big-endian layouts are unaligned.
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    // ---- static accessors over a batch at offset 0 of a segment ----

    public static long baseOffset(MemorySegment batch) {
        return batch.get(LONG, BASE_OFFSET_OFFSET);
    }

    /** Assigns the batch's offsets: the records get {@code baseOffset + offsetDelta}. Not covered by the CRC. */
    public static void setBaseOffset(MemorySegment batch, long baseOffset) {
        batch.set(LONG, BASE_OFFSET_OFFSET, baseOffset);
    }

    public static int batchLength(MemorySegment batch) {
        return batch.get(INT, BATCH_LENGTH_OFFSET);
    }

    /** The whole batch's size in bytes as its header declares it. */
    public static long sizeInBytes(MemorySegment batch) {
        return LOG_OVERHEAD + (long) batchLength(batch);
    }

    public static int partitionLeaderEpoch(MemorySegment batch) {
        return batch.get(INT, PARTITION_LEADER_EPOCH_OFFSET);
    }

    /** Stamps the leader epoch the batch was appended under. Not covered by the CRC. */
    public static void setPartitionLeaderEpoch(MemorySegment batch, int epoch) {
        batch.set(INT, PARTITION_LEADER_EPOCH_OFFSET, epoch);
    }

    public static byte magic(MemorySegment batch) {
        return batch.get(BYTE, MAGIC_OFFSET);
    }

    public static short attributes(MemorySegment batch) {
        return batch.get(SHORT, ATTRIBUTES_OFFSET);
    }

    public static int lastOffsetDelta(MemorySegment batch) {
        return batch.get(INT, LAST_OFFSET_DELTA_OFFSET);
    }

    /** The offset after this batch once it is stored at {@code baseOffset}. */
    public static long nextOffset(MemorySegment batch, long baseOffset) {
        return baseOffset + lastOffsetDelta(batch) + 1L;
    }

    public static long baseTimestamp(MemorySegment batch) {
        return batch.get(LONG, BASE_TIMESTAMP_OFFSET);
    }

    public static long maxTimestamp(MemorySegment batch) {
        return batch.get(LONG, MAX_TIMESTAMP_OFFSET);
    }

    public static long producerId(MemorySegment batch) {
        return batch.get(LONG, PRODUCER_ID_OFFSET);
    }

    public static short producerEpoch(MemorySegment batch) {
        return batch.get(SHORT, PRODUCER_EPOCH_OFFSET);
    }

    public static int baseSequence(MemorySegment batch) {
        return batch.get(INT, BASE_SEQUENCE_OFFSET);
    }

    /** The sequence of the last record, wrapping past {@code Integer.MAX_VALUE} to 0 as Kafka does. */
    public static int lastSequence(MemorySegment batch) {
        int base = baseSequence(batch);
        if (base == NO_SEQUENCE) return NO_SEQUENCE;
        int delta = lastOffsetDelta(batch);
        return base > Integer.MAX_VALUE - delta ? delta - (Integer.MAX_VALUE - base) - 1 : base + delta;
    }

    public static int recordCount(MemorySegment batch) {
        return batch.get(INT, RECORD_COUNT_OFFSET);
    }

    /** The raw compression bits (0-7). */
    public static int compressionId(MemorySegment batch) {
        return attributes(batch) & COMPRESSION_MASK;
    }

    public static boolean isTransactional(MemorySegment batch) {
        return (attributes(batch) & TRANSACTIONAL_MASK) != 0;
    }

    public static boolean isControl(MemorySegment batch) {
        return (attributes(batch) & CONTROL_MASK) != 0;
    }

    public static boolean hasLogAppendTime(MemorySegment batch) {
        return (attributes(batch) & TIMESTAMP_TYPE_MASK) != 0;
    }

    /** CRC32C of the bytes the header's CRC covers (attributes to the end of the batch), unsigned. */
    public static long computeCrc(MemorySegment batch) {
        return crc32c(batch, ATTRIBUTES_OFFSET, sizeInBytes(batch) - ATTRIBUTES_OFFSET, new CRC32C());
    }

    public static boolean isCrcValid(MemorySegment batch) {
        return computeCrc(batch) == Integer.toUnsignedLong(batch.get(INT, CRC_OFFSET));
    }

    /**
     * Stamps the batch with the broker's append time, as Kafka does for topics with
     * {@code message.timestamp.type=LogAppendTime}: sets the timestamp-type flag and the max timestamp
     * (consumers then read it as every record's timestamp) and rewrites the CRC, which covers both.
     */
    public static void setLogAppendTime(MemorySegment batch, long timestampMs) {
        batch.set(SHORT, ATTRIBUTES_OFFSET, (short) (attributes(batch) | TIMESTAMP_TYPE_MASK));
        batch.set(LONG, MAX_TIMESTAMP_OFFSET, timestampMs);
        batch.set(INT, CRC_OFFSET, (int) computeCrc(batch));
    }

    // ---- the flyweight ----

    private final CRC32C crc32c = new CRC32C();
    private MemorySegment segment;
    private long offset;

    /** Points this flyweight at the batch starting at {@code offset} of {@code segment}. */
    public RecordBatch wrap(MemorySegment segment, long offset) {
        if (offset < 0 || offset > segment.byteSize()) {
            throw new IllegalArgumentException("offset " + offset + " outside segment of " + segment.byteSize() + " bytes");
        }
        this.segment = segment;
        this.offset = offset;
        return this;
    }

    public MemorySegment segment() {
        return segment;
    }

    /** Where the batch starts in {@link #segment()}. */
    public long offset() {
        return offset;
    }

    /** Bytes of the segment from the start of the batch to the segment's end. */
    public long available() {
        return segment.byteSize() - offset;
    }

    // ---- header fields ----

    public long baseOffset() {
        return segment.get(LONG, offset + BASE_OFFSET_OFFSET);
    }

    public int batchLength() {
        return segment.get(INT, offset + BATCH_LENGTH_OFFSET);
    }

    public int partitionLeaderEpoch() {
        return segment.get(INT, offset + PARTITION_LEADER_EPOCH_OFFSET);
    }

    public byte magic() {
        return segment.get(BYTE, offset + MAGIC_OFFSET);
    }

    /** The stored CRC32C, unsigned. */
    public long crc() {
        return Integer.toUnsignedLong(segment.get(INT, offset + CRC_OFFSET));
    }

    public short attributes() {
        return segment.get(SHORT, offset + ATTRIBUTES_OFFSET);
    }

    public int lastOffsetDelta() {
        return segment.get(INT, offset + LAST_OFFSET_DELTA_OFFSET);
    }

    public long baseTimestamp() {
        return segment.get(LONG, offset + BASE_TIMESTAMP_OFFSET);
    }

    public long maxTimestamp() {
        return segment.get(LONG, offset + MAX_TIMESTAMP_OFFSET);
    }

    public long producerId() {
        return segment.get(LONG, offset + PRODUCER_ID_OFFSET);
    }

    public short producerEpoch() {
        return segment.get(SHORT, offset + PRODUCER_EPOCH_OFFSET);
    }

    public int baseSequence() {
        return segment.get(INT, offset + BASE_SEQUENCE_OFFSET);
    }

    public int recordCount() {
        return segment.get(INT, offset + RECORD_COUNT_OFFSET);
    }

    // ---- derived ----

    /** The whole batch on the wire: batchLength plus baseOffset and batchLength themselves. */
    public long sizeInBytes() {
        return (long) batchLength() + LOG_OVERHEAD;
    }

    /** baseOffset + lastOffsetDelta. */
    public long lastOffset() {
        return baseOffset() + lastOffsetDelta();
    }

    /** The raw compression bits (0-7); see {@link #compressionType()}. */
    public int compressionId() {
        return attributes() & COMPRESSION_MASK;
    }

    /** The codec, or {@code null} for the unused ids 5-7 ({@link #validate()} rejects those). */
    public CompressionType compressionType() {
        return CompressionType.forId(compressionId());
    }

    public boolean isCompressed() {
        return compressionId() != 0;
    }

    public TimestampType timestampType() {
        return (attributes() & TIMESTAMP_TYPE_MASK) != 0 ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME;
    }

    public boolean isTransactional() {
        return (attributes() & TRANSACTIONAL_MASK) != 0;
    }

    public boolean isControl() {
        return (attributes() & CONTROL_MASK) != 0;
    }

    /** Set by log compaction: baseTimestamp then holds the delete horizon. */
    public boolean hasDeleteHorizon() {
        return (attributes() & DELETE_HORIZON_MASK) != 0;
    }

    /** The delete horizon (baseTimestamp) when {@link #hasDeleteHorizon()}, else {@link #NO_TIMESTAMP}. */
    public long deleteHorizonMs() {
        return hasDeleteHorizon() ? baseTimestamp() : NO_TIMESTAMP;
    }

    /** producerId >= 0: the batch comes from an idempotent or transactional producer. */
    public boolean hasProducerId() {
        return producerId() > NO_PRODUCER_ID;
    }

    /** A view of the whole batch ({@link #sizeInBytes()} bytes), e.g. to hand to storage. */
    public MemorySegment asSlice() {
        return segment.asSlice(offset, sizeInBytes());
    }

    // ---- in-place updates (outside the CRC) ----

    /** Sets baseOffset in place, as the broker does when it assigns offsets; the CRC stays valid. */
    public RecordBatch baseOffset(long baseOffset) {
        segment.set(LONG, offset + BASE_OFFSET_OFFSET, baseOffset);
        return this;
    }

    /** Sets partitionLeaderEpoch in place; the CRC stays valid. */
    public RecordBatch partitionLeaderEpoch(int epoch) {
        segment.set(INT, offset + PARTITION_LEADER_EPOCH_OFFSET, epoch);
        return this;
    }

    /**
     * Sets the timestamp type and maxTimestamp, as a broker does for LOG_APPEND_TIME topics, and
     * rewrites the CRC if anything changed (both fields are CRC-covered).
     */
    public RecordBatch maxTimestamp(TimestampType type, long maxTimestamp) {
        short attrs = attributes();
        short newAttrs = (short) (type == TimestampType.LOG_APPEND_TIME
                ? attrs | TIMESTAMP_TYPE_MASK : attrs & ~TIMESTAMP_TYPE_MASK);
        if (newAttrs != attrs || maxTimestamp() != maxTimestamp) {
            segment.set(SHORT, offset + ATTRIBUTES_OFFSET, newAttrs);
            segment.set(LONG, offset + MAX_TIMESTAMP_OFFSET, maxTimestamp);
            writeCrc();
        }
        return this;
    }

    // ---- CRC ----

    /**
     * CRC32C of attributes..end of batch, as it should be stored. The whole batch must be present,
     * and the segment native or backed by a {@code byte[]} (as every segment Kiri reads from is).
     */
    public long computeCrc() {
        return crc32c(segment, offset + ATTRIBUTES_OFFSET, sizeInBytes() - ATTRIBUTES_OFFSET, crc32c);
    }

    public boolean isCrcValid() {
        return computeCrc() == crc();
    }

    /** Recomputes the CRC32C and stores it, after changing a CRC-covered field. */
    public RecordBatch writeCrc() {
        segment.set(INT, offset + CRC_OFFSET, (int) computeCrc());
        return this;
    }

    /**
     * CRC32C of {@code length} bytes at {@code from}. Goes through a ByteBuffer view so that the
     * JDK's intrinsic runs over native and heap memory alike without copying; the segment must be
     * native or backed by a {@code byte[]}.
     */
    static long crc32c(MemorySegment segment, long from, long length, CRC32C crc) {
        crc.reset();
        crc.update(segment.asSlice(from, length).asByteBuffer());
        return crc.getValue();
    }

    // ---- validation ----

    /**
     * Checks what a Kafka broker checks on a produced v2 batch, in Kafka's order, stopping at the
     * first failure: enough bytes to read batchLength; batchLength at least Kafka's minimum;
     * the bytes batchLength promises are present; magic is 2; the batch holds at least a header;
     * the CRC32C matches; lastOffsetDelta + 1 is positive; recordCount is positive and equals
     * lastOffsetDelta + 1; the compression bits name a codec. Never throws for any content.
     *
     * <p>Like Kafka, an empty batch (recordCount 0) is invalid here: producers never send one.
     * Records themselves are not parsed; {@link RecordCursor} reports malformed records.
     */
    public BatchStatus validate() {
        return validate(Long.MAX_VALUE, false);
    }

    /**
     * {@link #validate()} plus the checks Kafka applies only to batches from producers: size at most
     * {@code maxBatchBytes} (checked before the CRC, as Kafka does), no control batches, and a
     * non-negative base sequence when the batch carries a producer id.
     */
    public BatchStatus validateForProduce(long maxBatchBytes) {
        return validate(maxBatchBytes, true);
    }

    private BatchStatus validate(long maxBatchBytes, boolean fromProducer) {
        long available = available();
        if (available < LOG_OVERHEAD) {
            return BatchStatus.TRUNCATED;
        }
        int batchLength = batchLength();
        if (batchLength < MIN_BATCH_LENGTH_TO_READ) {
            return BatchStatus.LENGTH_TOO_SMALL;
        }
        long size = (long) batchLength + LOG_OVERHEAD;
        if (available < size || available < HEADER_SIZE_UP_TO_MAGIC) {
            return BatchStatus.TRUNCATED;
        }
        if (magic() != MAGIC_V2) {
            return BatchStatus.UNSUPPORTED_MAGIC;
        }
        if (size > maxBatchBytes) {
            return BatchStatus.TOO_LARGE;
        }
        if (size < HEADER_SIZE) {
            return BatchStatus.LENGTH_TOO_SMALL;
        }
        if (!isCrcValid()) {
            return BatchStatus.CRC_MISMATCH;
        }
        int lastOffsetDelta = lastOffsetDelta();
        int recordCount = recordCount();
        if ((long) lastOffsetDelta + 1 <= 0) {
            return BatchStatus.INVALID_OFFSET_RANGE;
        }
        if (recordCount <= 0) {
            return BatchStatus.INVALID_RECORD_COUNT;
        }
        if ((long) lastOffsetDelta + 1 != recordCount) {
            return BatchStatus.RECORD_COUNT_MISMATCH;
        }
        if (fromProducer) {
            if (isControl()) {
                return BatchStatus.CONTROL_BATCH_NOT_ALLOWED;
            }
            if (hasProducerId() && baseSequence() < 0) {
                return BatchStatus.INVALID_SEQUENCE;
            }
        }
        if (compressionType() == null) {
            return BatchStatus.UNKNOWN_COMPRESSION;
        }
        return BatchStatus.VALID;
    }

    @Override
    public String toString() {
        if (segment == null) {
            return "RecordBatch(unwrapped)";
        }
        if (available() < HEADER_SIZE) {
            return "RecordBatch(truncated, " + available() + " bytes at " + offset + ")";
        }
        return "RecordBatch(baseOffset=" + baseOffset() + ", size=" + sizeInBytes() + ", magic=" + magic()
                + ", records=" + recordCount() + ", lastOffsetDelta=" + lastOffsetDelta()
                + ", compression=" + compressionId() + ", " + timestampType()
                + ", transactional=" + isTransactional() + ", control=" + isControl()
                + ", producerId=" + producerId() + ", producerEpoch=" + producerEpoch()
                + ", baseSequence=" + baseSequence() + ")";
    }
}
