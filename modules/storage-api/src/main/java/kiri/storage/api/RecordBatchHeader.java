package kiri.storage.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Reads and patches the 61-byte header of a v2 record batch in place, the only part of a batch
 * an engine needs (offsets, producer id/epoch/sequence, timestamps, flags). The router has already
 * validated the header and the CRC32C before a batch reaches {@link Storage#produce}.
 *
 * <p>The storage API depends on nothing, so it carries this small copy of the header layout rather
 * than the protocol module's flyweight. All methods are static, allocation-free (except the CRC
 * helpers) and thread-safe for distinct segments.
 */
public final class RecordBatchHeader {
    private RecordBatchHeader() {}

    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    public static final int BASE_OFFSET = 0;
    public static final int BATCH_LENGTH = 8;
    public static final int PARTITION_LEADER_EPOCH = 12;
    public static final int MAGIC = 16;
    public static final int CRC = 17;
    public static final int ATTRIBUTES = 21;
    public static final int LAST_OFFSET_DELTA = 23;
    public static final int BASE_TIMESTAMP = 27;
    public static final int MAX_TIMESTAMP = 35;
    public static final int PRODUCER_ID = 43;
    public static final int PRODUCER_EPOCH = 51;
    public static final int BASE_SEQUENCE = 53;
    public static final int RECORD_COUNT = 57;
    /** Size of the header; the records follow. */
    public static final int HEADER_SIZE = 61;
    /** Bytes before {@code batchLength} counts: baseOffset and batchLength themselves. */
    public static final int LOG_OVERHEAD = 12;

    public static final short COMPRESSION_MASK = 0x07;
    public static final short TIMESTAMP_TYPE_FLAG = 0x08;
    public static final short TRANSACTIONAL_FLAG = 0x10;
    public static final short CONTROL_FLAG = 0x20;

    public static final long NO_PRODUCER_ID = -1L;
    public static final int NO_SEQUENCE = -1;

    public static long baseOffset(MemorySegment batch) {
        return batch.get(LONG, BASE_OFFSET);
    }

    /** Assigns the batch's offsets: the records get {@code baseOffset + offsetDelta}. Not covered by the CRC. */
    public static void setBaseOffset(MemorySegment batch, long baseOffset) {
        batch.set(LONG, BASE_OFFSET, baseOffset);
    }

    public static int batchLength(MemorySegment batch) {
        return batch.get(INT, BATCH_LENGTH);
    }

    /** The whole batch's size in bytes as its header declares it. */
    public static long sizeInBytes(MemorySegment batch) {
        return LOG_OVERHEAD + (long) batchLength(batch);
    }

    public static int partitionLeaderEpoch(MemorySegment batch) {
        return batch.get(INT, PARTITION_LEADER_EPOCH);
    }

    /** Stamps the leader epoch the batch was appended under. Not covered by the CRC. */
    public static void setPartitionLeaderEpoch(MemorySegment batch, int epoch) {
        batch.set(INT, PARTITION_LEADER_EPOCH, epoch);
    }

    public static byte magic(MemorySegment batch) {
        return batch.get(ValueLayout.JAVA_BYTE, MAGIC);
    }

    public static int crc(MemorySegment batch) {
        return batch.get(INT, CRC);
    }

    public static short attributes(MemorySegment batch) {
        return batch.get(SHORT, ATTRIBUTES);
    }

    public static int lastOffsetDelta(MemorySegment batch) {
        return batch.get(INT, LAST_OFFSET_DELTA);
    }

    /** The offset after this batch once it is stored at {@code baseOffset}. */
    public static long nextOffset(MemorySegment batch, long baseOffset) {
        return baseOffset + lastOffsetDelta(batch) + 1L;
    }

    public static long baseTimestamp(MemorySegment batch) {
        return batch.get(LONG, BASE_TIMESTAMP);
    }

    public static long maxTimestamp(MemorySegment batch) {
        return batch.get(LONG, MAX_TIMESTAMP);
    }

    public static long producerId(MemorySegment batch) {
        return batch.get(LONG, PRODUCER_ID);
    }

    public static short producerEpoch(MemorySegment batch) {
        return batch.get(SHORT, PRODUCER_EPOCH);
    }

    public static int baseSequence(MemorySegment batch) {
        return batch.get(INT, BASE_SEQUENCE);
    }

    /** The sequence of the last record, wrapping past {@code Integer.MAX_VALUE} to 0 as Kafka does. */
    public static int lastSequence(MemorySegment batch) {
        int base = baseSequence(batch);
        if (base == NO_SEQUENCE) return NO_SEQUENCE;
        int delta = lastOffsetDelta(batch);
        return base > Integer.MAX_VALUE - delta ? delta - (Integer.MAX_VALUE - base) - 1 : base + delta;
    }

    public static int recordCount(MemorySegment batch) {
        return batch.get(INT, RECORD_COUNT);
    }

    public static int compression(MemorySegment batch) {
        return attributes(batch) & COMPRESSION_MASK;
    }

    public static boolean isTransactional(MemorySegment batch) {
        return (attributes(batch) & TRANSACTIONAL_FLAG) != 0;
    }

    public static boolean isControl(MemorySegment batch) {
        return (attributes(batch) & CONTROL_FLAG) != 0;
    }

    public static boolean hasLogAppendTime(MemorySegment batch) {
        return (attributes(batch) & TIMESTAMP_TYPE_FLAG) != 0;
    }

    public static boolean hasProducerId(MemorySegment batch) {
        return producerId(batch) != NO_PRODUCER_ID;
    }

    /** CRC32C of the bytes the header's CRC covers: from the attributes to the end of the batch. */
    public static int computeCrc(MemorySegment batch) {
        CRC32C crc = new CRC32C();
        crc.update(batch.asSlice(ATTRIBUTES, sizeInBytes(batch) - ATTRIBUTES).asByteBuffer());
        return (int) crc.getValue();
    }

    public static boolean isCrcValid(MemorySegment batch) {
        return computeCrc(batch) == crc(batch);
    }

    /**
     * Stamps the batch with the broker's append time, as Kafka does for topics with
     * {@code message.timestamp.type=LogAppendTime}: sets the timestamp-type flag and the max timestamp
     * (consumers then read it as every record's timestamp) and rewrites the CRC, which covers both.
     */
    public static void setLogAppendTime(MemorySegment batch, long timestampMs) {
        batch.set(SHORT, ATTRIBUTES, (short) (attributes(batch) | TIMESTAMP_TYPE_FLAG));
        batch.set(LONG, MAX_TIMESTAMP, timestampMs);
        batch.set(INT, CRC, computeCrc(batch));
    }
}
