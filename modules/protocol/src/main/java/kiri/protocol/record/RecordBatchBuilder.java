package kiri.protocol.record;

import static kiri.protocol.Sizes.utf8Length;
import static kiri.protocol.Sizes.varintSize;
import static kiri.protocol.Sizes.varlongSize;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.zip.CRC32C;
import kiri.protocol.BigEndian;
import kiri.protocol.WireWriter;

/**
 * Writes one uncompressed v2 record batch straight into a {@link MemorySegment}: records are
 * appended in place after the 61-byte header, and {@link #build()} fills in the header and the
 * CRC32C last, when the counts and timestamps are known.
 *
 * <p>The builder knows its capacity: {@link #tryAppend} writes a record only if its exact encoded
 * size ({@link #recordSize}) fits, else leaves the batch unchanged and returns false, so a
 * producer can fill a fixed-size buffer and start the next batch. Offset deltas are 0, 1, 2 ...
 * in append order; baseTimestamp is the first record's timestamp and maxTimestamp the largest.
 *
 * <pre>{@code
 * RecordBatchBuilder builder = new RecordBatchBuilder();   // reuse for every batch
 * builder.wrap(buffer, 0).producer(pid, epoch, sequence);
 * while (more && builder.tryAppend(now, key, value, List.of())) { ... }
 * int size = builder.build();
 * }</pre>
 *
 * <p>Hot-path use: nothing is allocated per record (header lists are the caller's; ASCII header
 * keys are written without encoding buffers), one small writer per {@link #wrap}. Not thread-safe;
 * the target segment must stay valid until {@link #build()} returns.
 */
public final class RecordBatchBuilder {
    /** Bytes of a null key/value on the wire (the varint -1). */
    private static final int NULL_LENGTH_SIZE = 1;
    /** Worst-case varint / varlong sizes, for {@link #maxRecordSize}. */
    private static final int MAX_VARINT_SIZE = 5;
    private static final int MAX_VARLONG_SIZE = 10;

    private final CRC32C crc32c = new CRC32C();
    private MemorySegment segment;
    private WireWriter writer;
    private long start;
    private int capacity;
    private boolean built = true;

    private long baseOffset;
    private int partitionLeaderEpoch;
    private long producerId;
    private short producerEpoch;
    private int baseSequence;
    private boolean transactional;
    private boolean control;
    private TimestampType timestampType;

    private int recordCount;
    private long baseTimestamp;
    private long maxTimestamp;

    /** Starts a new batch at {@code offset} of {@code target}, using all bytes to its end. */
    public RecordBatchBuilder wrap(MemorySegment target, long offset) {
        return wrap(target, offset, target.byteSize() - offset);
    }

    /**
     * Starts a new batch at {@code offset} of {@code target} that may take at most {@code capacity}
     * bytes, resetting every header field to its default (baseOffset 0, no producer id/epoch/sequence,
     * no partition leader epoch, not transactional, not control, CREATE_TIME).
     */
    public RecordBatchBuilder wrap(MemorySegment target, long offset, long capacity) {
        if (offset < 0 || capacity < 0 || offset + capacity > target.byteSize()) {
            throw new IllegalArgumentException("range " + offset + "+" + capacity + " outside segment of "
                    + target.byteSize() + " bytes");
        }
        if (capacity < RecordBatch.HEADER_SIZE) {
            throw new IllegalArgumentException("capacity " + capacity + " is below the batch header size "
                    + RecordBatch.HEADER_SIZE);
        }
        this.segment = target;
        this.start = offset;
        this.capacity = (int) Math.min(capacity, Integer.MAX_VALUE);
        this.writer = new WireWriter(target, offset + RecordBatch.HEADER_SIZE);
        this.built = false;
        this.baseOffset = 0;
        this.partitionLeaderEpoch = RecordBatch.NO_PARTITION_LEADER_EPOCH;
        this.producerId = RecordBatch.NO_PRODUCER_ID;
        this.producerEpoch = RecordBatch.NO_PRODUCER_EPOCH;
        this.baseSequence = RecordBatch.NO_SEQUENCE;
        this.transactional = false;
        this.control = false;
        this.timestampType = TimestampType.CREATE_TIME;
        this.recordCount = 0;
        this.baseTimestamp = RecordBatch.NO_TIMESTAMP;
        this.maxTimestamp = RecordBatch.NO_TIMESTAMP;
        return this;
    }

    // ---- header fields: may be set any time before build() ----

    public RecordBatchBuilder baseOffset(long baseOffset) {
        this.baseOffset = baseOffset;
        return this;
    }

    public RecordBatchBuilder partitionLeaderEpoch(int partitionLeaderEpoch) {
        this.partitionLeaderEpoch = partitionLeaderEpoch;
        return this;
    }

    /** Idempotent/transactional producer fields: id, epoch and the sequence of the first record. */
    public RecordBatchBuilder producer(long producerId, short producerEpoch, int baseSequence) {
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.baseSequence = baseSequence;
        return this;
    }

    public RecordBatchBuilder transactional(boolean transactional) {
        this.transactional = transactional;
        return this;
    }

    /** Marks a control batch; its records must be control records (see {@link ControlBatch}). */
    public RecordBatchBuilder control(boolean control) {
        this.control = control;
        return this;
    }

    /** The timestamp type bit; maxTimestamp is the largest record timestamp either way. */
    public RecordBatchBuilder timestampType(TimestampType timestampType) {
        this.timestampType = timestampType;
        return this;
    }

    // ---- sizes ----

    /**
     * Exact encoded size of one record, length prefix included; key/value length -1 means null.
     * {@code headers} may be empty, never null.
     */
    public static int recordSize(int offsetDelta, long timestampDelta, int keyLength, int valueLength, List<Header> headers) {
        int body = bodySize(offsetDelta, timestampDelta, keyLength, valueLength, headers);
        return varintSize(body) + body;
    }

    /** An upper bound of {@link #recordSize} whatever the deltas, for sizing buffers up front. */
    public static int maxRecordSize(int keyLength, int valueLength, List<Header> headers) {
        int body = 1 + MAX_VARLONG_SIZE + MAX_VARINT_SIZE + bytesSize(keyLength) + bytesSize(valueLength)
                + headersSize(headers);
        return MAX_VARINT_SIZE + body;
    }

    private static int bodySize(int offsetDelta, long timestampDelta, int keyLength, int valueLength, List<Header> headers) {
        return 1 // attributes
                + varlongSize(timestampDelta)
                + varintSize(offsetDelta)
                + bytesSize(keyLength)
                + bytesSize(valueLength)
                + headersSize(headers);
    }

    private static int bytesSize(int length) {
        return length < 0 ? NULL_LENGTH_SIZE : varintSize(length) + length;
    }

    private static int headersSize(List<Header> headers) {
        int n = headers.size();
        int size = varintSize(n);
        for (int i = 0; i < n; i++) {
            Header h = headers.get(i);
            int keyBytes = utf8Length(h.key());
            size += varintSize(keyBytes) + keyBytes + bytesSize(length(h.value()));
        }
        return size;
    }

    private static int length(MemorySegment s) {
        return s == null ? -1 : Math.toIntExact(s.byteSize());
    }

    private static int length(byte[] b) {
        return b == null ? -1 : b.length;
    }

    /** Bytes written so far, header included: the batch's size if built now. */
    public int sizeInBytes() {
        return writer == null ? 0 : (int) (writer.position() - start);
    }

    /** Bytes still free for records. */
    public int remaining() {
        return capacity - sizeInBytes();
    }

    public int recordCount() {
        return recordCount;
    }

    /** Whether a record with these lengths (-1 = null) and headers fits in what is left. */
    public boolean hasRoomFor(long timestamp, int keyLength, int valueLength, List<Header> headers) {
        long timestampDelta = recordCount == 0 ? 0 : timestamp - baseTimestamp;
        return recordSize(recordCount, timestampDelta, keyLength, valueLength, headers) <= remaining();
    }

    // ---- appending ----

    /** Appends a record if it fits; returns false (and changes nothing) if it does not. */
    public boolean tryAppend(long timestamp, MemorySegment key, MemorySegment value, List<Header> headers) {
        if (!begin(timestamp, length(key), length(value), headers)) {
            return false;
        }
        writeBytes(key);
        writeBytes(value);
        writeHeaders(headers);
        return true;
    }

    /** Appends a record if it fits; returns false (and changes nothing) if it does not. */
    public boolean tryAppend(long timestamp, byte[] key, byte[] value, List<Header> headers) {
        if (!begin(timestamp, length(key), length(value), headers)) {
            return false;
        }
        writeBytes(key);
        writeBytes(value);
        writeHeaders(headers);
        return true;
    }

    /** Appends a record without headers; throws {@link IllegalStateException} if it does not fit. */
    public RecordBatchBuilder append(long timestamp, MemorySegment key, MemorySegment value) {
        return append(timestamp, key, value, List.of());
    }

    /** Appends a record; throws {@link IllegalStateException} if it does not fit. */
    public RecordBatchBuilder append(long timestamp, MemorySegment key, MemorySegment value, List<Header> headers) {
        if (!tryAppend(timestamp, key, value, headers)) {
            throw full();
        }
        return this;
    }

    /** Appends a record without headers; throws {@link IllegalStateException} if it does not fit. */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value) {
        return append(timestamp, key, value, List.of());
    }

    /** Appends a record; throws {@link IllegalStateException} if it does not fit. */
    public RecordBatchBuilder append(long timestamp, byte[] key, byte[] value, List<Header> headers) {
        if (!tryAppend(timestamp, key, value, headers)) {
            throw full();
        }
        return this;
    }

    private IllegalStateException full() {
        return new IllegalStateException("record does not fit: " + remaining() + " of " + capacity + " bytes left");
    }

    /** Checks room, then writes everything of the record up to its key and updates the counters. */
    private boolean begin(long timestamp, int keyLength, int valueLength, List<Header> headers) {
        if (built) {
            throw new IllegalStateException("builder is not wrapped around a target, or already built");
        }
        long timestampDelta = recordCount == 0 ? 0 : timestamp - baseTimestamp;
        int body = bodySize(recordCount, timestampDelta, keyLength, valueLength, headers);
        if (varintSize(body) + body > remaining()) {
            return false;
        }
        if (recordCount == 0) {
            baseTimestamp = timestamp;
            maxTimestamp = timestamp;
        } else if (timestamp > maxTimestamp) {
            maxTimestamp = timestamp;
        }
        writer.writeVarint(body);
        writer.writeInt8((byte) 0); // record attributes: unused in v2
        writer.writeVarlong(timestampDelta);
        writer.writeVarint(recordCount);
        recordCount++;
        return true;
    }

    private void writeBytes(MemorySegment bytes) {
        if (bytes == null) {
            writer.writeVarint(-1);
        } else {
            writer.writeVarint(Math.toIntExact(bytes.byteSize()));
            writer.writeSegment(bytes);
        }
    }

    private void writeBytes(byte[] bytes) {
        if (bytes == null) {
            writer.writeVarint(-1);
        } else {
            writer.writeVarint(bytes.length);
            long at = writer.position();
            MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, at, bytes.length);
            writer.position(at + bytes.length);
        }
    }

    private void writeHeaders(List<Header> headers) {
        int n = headers.size();
        writer.writeVarint(n);
        for (int i = 0; i < n; i++) {
            Header h = headers.get(i);
            writer.writeVarint(utf8Length(h.key()));
            writer.writeUtf8(h.key());
            writeBytes(h.value());
        }
    }

    // ---- finishing ----

    /**
     * Writes the header and the CRC32C and returns the batch's size in bytes. The builder must be
     * wrapped again before the next batch.
     *
     * @throws IllegalStateException if no record was appended (Kafka rejects empty batches)
     */
    public int build() {
        if (built) {
            throw new IllegalStateException("builder is not wrapped around a target, or already built");
        }
        if (recordCount == 0) {
            throw new IllegalStateException("a record batch needs at least one record");
        }
        int size = sizeInBytes();
        int attributes = (transactional ? RecordBatch.TRANSACTIONAL_MASK : 0)
                | (control ? RecordBatch.CONTROL_MASK : 0)
                | (timestampType == TimestampType.LOG_APPEND_TIME ? RecordBatch.TIMESTAMP_TYPE_MASK : 0);
        MemorySegment s = segment;
        long b = start;
        s.set(BigEndian.LONG, b + RecordBatch.BASE_OFFSET_OFFSET, baseOffset);
        s.set(BigEndian.INT, b + RecordBatch.BATCH_LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        s.set(BigEndian.INT, b + RecordBatch.PARTITION_LEADER_EPOCH_OFFSET, partitionLeaderEpoch);
        s.set(ValueLayout.JAVA_BYTE, b + RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC_V2);
        s.set(BigEndian.SHORT, b + RecordBatch.ATTRIBUTES_OFFSET, (short) attributes);
        s.set(BigEndian.INT, b + RecordBatch.LAST_OFFSET_DELTA_OFFSET, recordCount - 1);
        s.set(BigEndian.LONG, b + RecordBatch.BASE_TIMESTAMP_OFFSET, baseTimestamp);
        s.set(BigEndian.LONG, b + RecordBatch.MAX_TIMESTAMP_OFFSET, maxTimestamp);
        s.set(BigEndian.LONG, b + RecordBatch.PRODUCER_ID_OFFSET, producerId);
        s.set(BigEndian.SHORT, b + RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        s.set(BigEndian.INT, b + RecordBatch.BASE_SEQUENCE_OFFSET, baseSequence);
        s.set(BigEndian.INT, b + RecordBatch.RECORD_COUNT_OFFSET, recordCount);
        long crc = RecordBatch.crc32c(s, b + RecordBatch.ATTRIBUTES_OFFSET, size - RecordBatch.ATTRIBUTES_OFFSET, crc32c);
        s.set(BigEndian.INT, b + RecordBatch.CRC_OFFSET, (int) crc);
        built = true;
        return size;
    }
}
