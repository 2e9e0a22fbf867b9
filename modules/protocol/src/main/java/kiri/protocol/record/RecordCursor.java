package kiri.protocol.record;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import kiri.protocol.ProtocolException;
import kiri.protocol.WireReader;

/**
 * Iterates the records of an uncompressed v2 batch in place: the cursor is the current record.
 * (kiri.compress.BatchCompression turns a compressed batch into an uncompressed copy to iterate.)
 *
 * <p>Record layout: length varint (bytes after itself), attributes int8, timestampDelta varlong,
 * offsetDelta varint, key length varint (-1 = null) + bytes, value length varint (-1 = null) +
 * bytes, header count varint, then per header a key (length varint + UTF-8, never null) and a
 * value (length varint, -1 = null, + bytes).
 *
 * <pre>{@code
 * RecordCursor records = new RecordCursor();   // reuse across batches
 * records.wrap(batch);
 * while (records.next()) {
 *     long offset = records.offset();
 *     MemorySegment value = records.value();   // view, or null
 *     while (records.nextHeader()) { ... records.headerKeyAsString(), records.headerValue() ... }
 * }
 * }</pre>
 *
 * <p>{@link #next} parses the whole record, headers included, so a malformed record (lengths out
 * of range, fields overrunning the record's declared length, a record count that disagrees with
 * the bytes) fails there with a {@link ProtocolException} naming the byte offset, before any of
 * its fields are used. Key, value and header views are slices of the batch's segment, valid while
 * it is; offsets and lengths are also exposed so hot paths need no slice at all. One small
 * allocation per {@link #wrap}, none per record. Not thread-safe.
 */
public final class RecordCursor {
    private WireReader reader;
    private MemorySegment segment;
    private long baseOffset;
    private long baseTimestamp;
    private long logAppendTime;
    private boolean logAppendTimeType;
    private int recordCount;
    private long batchEnd;

    private int index;
    private long recordStart;
    private long recordEnd;
    private byte attributes;
    private long timestampDelta;
    private int offsetDelta;
    private long keyOffset;
    private int keyLength;
    private long valueOffset;
    private int valueLength;
    private int headerCount;
    private long headersOffset;

    private int headerIndex;
    private long nextHeaderOffset;
    private long headerKeyOffset;
    private int headerKeyLength;
    private long headerValueOffset;
    private int headerValueLength;

    /**
     * Starts iterating {@code batch}'s records. Checks only what iteration needs (a whole header,
     * the declared bytes present, a non-negative record count, no compression), not the CRC.
     *
     * @throws ProtocolException if the batch is truncated, compressed or has a negative count
     */
    public RecordCursor wrap(RecordBatch batch) {
        long start = batch.offset();
        long available = batch.available();
        if (available < RecordBatch.HEADER_SIZE) {
            throw new ProtocolException("record batch at offset " + start + " is truncated: " + available
                    + " bytes, the header alone takes " + RecordBatch.HEADER_SIZE);
        }
        long size = batch.sizeInBytes();
        if (size < RecordBatch.HEADER_SIZE || size > available) {
            throw new ProtocolException("record batch at offset " + start + " declares " + size
                    + " bytes but " + available + " are available (and at least " + RecordBatch.HEADER_SIZE + " needed)");
        }
        if (batch.magic() != RecordBatch.MAGIC_V2) {
            throw new ProtocolException("record batch at offset " + start + " has magic " + batch.magic() + ", not 2");
        }
        if (batch.isCompressed()) {
            throw new ProtocolException("compressed batches not supported for record iteration (batch at offset "
                    + start + " uses compression id " + batch.compressionId()
                    + "): decompress it first (kiri.compress.BatchCompression)");
        }
        int count = batch.recordCount();
        if (count < 0) {
            throw new ProtocolException("record batch at offset " + start + " has negative record count " + count);
        }
        this.segment = batch.segment();
        this.reader = new WireReader(segment, start + RecordBatch.HEADER_SIZE, size - RecordBatch.HEADER_SIZE);
        this.baseOffset = batch.baseOffset();
        this.baseTimestamp = batch.baseTimestamp();
        this.logAppendTimeType = batch.timestampType() == TimestampType.LOG_APPEND_TIME;
        this.logAppendTime = batch.maxTimestamp();
        this.recordCount = count;
        this.batchEnd = start + size;
        this.index = -1;
        this.headerCount = 0;
        this.headerIndex = 0;
        return this;
    }

    /**
     * Moves to the next record; false after the last one.
     *
     * @throws ProtocolException if the record is malformed, or bytes remain after recordCount records
     */
    public boolean next() {
        if (index + 1 >= recordCount) {
            if (index + 1 == recordCount && reader.remaining() != 0) {
                throw new ProtocolException("record batch declares " + recordCount + " records but "
                        + reader.remaining() + " bytes remain after them at offset " + reader.position());
            }
            index = recordCount;
            return false;
        }
        long start = reader.position();
        int length = reader.readVarint();
        if (length < 0 || length > reader.remaining()) {
            throw new ProtocolException("record " + (index + 1) + " at offset " + start + " has length " + length
                    + " but " + reader.remaining() + " bytes remain in the batch");
        }
        long end = reader.position() + length;
        WireReader r = reader;
        attributes = r.readInt8();
        timestampDelta = r.readVarlong();
        offsetDelta = r.readVarint();
        keyLength = readLength(r, "key");
        keyOffset = r.position();
        r.skip(Math.max(keyLength, 0));
        valueLength = readLength(r, "value");
        valueOffset = r.position();
        r.skip(Math.max(valueLength, 0));
        int headers = r.readVarint();
        // Each header takes at least two bytes (two length varints).
        r.requireElements(headers, 2, "record headers");
        headersOffset = r.position();
        for (int i = 0; i < headers; i++) {
            int kl = r.readVarint();
            if (kl < 0) {
                throw new ProtocolException("record header key at offset " + r.position() + " has negative length " + kl);
            }
            r.skip(kl);
            r.skip(Math.max(readLength(r, "header value"), 0));
        }
        // The reader is bounded by the batch, not the record (no allocation per record): a record
        // whose fields overrun or underrun its declared length is caught here instead.
        if (r.position() != end) {
            throw new ProtocolException("record at offset " + start + " declares length " + length
                    + " but its fields end at offset " + r.position() + ", not " + end);
        }
        headerCount = headers;
        headerIndex = 0;
        nextHeaderOffset = headersOffset;
        recordStart = start;
        recordEnd = end;
        index++;
        return true;
    }

    private static int readLength(WireReader r, String what) {
        long at = r.position();
        int length = r.readVarint();
        if (length < -1) {
            throw new ProtocolException("record " + what + " at offset " + at + " has invalid length " + length);
        }
        return length;
    }

    /** 0-based position of the current record in its batch. */
    public int index() {
        return index;
    }

    /** Where the current record (its length varint) starts in the segment. */
    public long position() {
        return recordStart;
    }

    /** Bytes of the current record, length varint included. */
    public int sizeInBytes() {
        return (int) (recordEnd - recordStart);
    }

    public byte attributes() {
        return attributes;
    }

    public long timestampDelta() {
        return timestampDelta;
    }

    /**
     * The record's timestamp: the batch's maxTimestamp for LOG_APPEND_TIME batches (the broker's
     * time stands for every record), else baseTimestamp + timestampDelta.
     */
    public long timestamp() {
        return logAppendTimeType ? logAppendTime : baseTimestamp + timestampDelta;
    }

    public int offsetDelta() {
        return offsetDelta;
    }

    /** baseOffset + offsetDelta. */
    public long offset() {
        return baseOffset + offsetDelta;
    }

    public boolean hasKey() {
        return keyLength >= 0;
    }

    /** Key length in bytes, -1 for a null key. */
    public int keyLength() {
        return keyLength;
    }

    /** Where the key bytes start in the segment (meaningless for a null key). */
    public long keyOffset() {
        return keyOffset;
    }

    /** A view of the key, or {@code null} for a null key. */
    public MemorySegment key() {
        return keyLength < 0 ? null : segment.asSlice(keyOffset, keyLength);
    }

    public boolean hasValue() {
        return valueLength >= 0;
    }

    /** Value length in bytes, -1 for a null value. */
    public int valueLength() {
        return valueLength;
    }

    public long valueOffset() {
        return valueOffset;
    }

    /** A view of the value, or {@code null} for a null value (a tombstone). */
    public MemorySegment value() {
        return valueLength < 0 ? null : segment.asSlice(valueOffset, valueLength);
    }

    public int headerCount() {
        return headerCount;
    }

    /** Moves to the current record's next header; false after the last. Restarts with each record. */
    public boolean nextHeader() {
        if (headerIndex >= headerCount) {
            return false;
        }
        // Already bounds-checked by next(): read the varints back without re-checking limits.
        long p = nextHeaderOffset;
        long raw = readRawVarint(p);
        headerKeyLength = (int) raw;
        p += raw >>> 32;
        headerKeyOffset = p;
        p += headerKeyLength;
        raw = readRawVarint(p);
        headerValueLength = (int) raw;
        p += raw >>> 32;
        headerValueOffset = p;
        p += Math.max(headerValueLength, 0);
        nextHeaderOffset = p;
        headerIndex++;
        return true;
    }

    /** A zig-zag varint at {@code at}: value in the low 32 bits, encoded size in the high bits. */
    private long readRawVarint(long at) {
        int raw = 0;
        int size = 0;
        byte b;
        do {
            b = segment.get(ValueLayout.JAVA_BYTE, at + size);
            raw |= (b & 0x7f) << (7 * size);
            size++;
        } while (b < 0);
        int value = (raw >>> 1) ^ -(raw & 1);
        return ((long) size << 32) | Integer.toUnsignedLong(value);
    }

    public long headerKeyOffset() {
        return headerKeyOffset;
    }

    public int headerKeyLength() {
        return headerKeyLength;
    }

    /** The current header's key bytes (UTF-8). */
    public MemorySegment headerKey() {
        return segment.asSlice(headerKeyOffset, headerKeyLength);
    }

    /** The current header's key decoded from UTF-8 (allocates). */
    public String headerKeyAsString() {
        return new String(headerKey().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    public long headerValueOffset() {
        return headerValueOffset;
    }

    /** The current header's value length, -1 for null. */
    public int headerValueLength() {
        return headerValueLength;
    }

    /** A view of the current header's value, or {@code null}. */
    public MemorySegment headerValue() {
        return headerValueLength < 0 ? null : segment.asSlice(headerValueOffset, headerValueLength);
    }
}
