package kiri.compress;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.RecordBatch;

/**
 * Whole v2 record batches in and out of compression: the 61-byte header stays as it is (but for
 * the codec bits, batchLength and the CRC), the records section goes through {@link Codecs}.
 *
 * <pre>{@code
 * MemorySegment plain = batch.isCompressed()
 *         ? BatchCompression.decompress(batch, BatchCompression.DEFAULT_MAX_RECORDS_BYTES) : batch.asSlice();
 * MemorySegment wire = BatchCompression.compress(builtBatch, CompressionType.ZSTD);
 * }</pre>
 *
 * Allocates heap arrays per call (compressed batches are copied anyway); stateless, thread-safe.
 */
public final class BatchCompression {
    /** Default cap on one batch's decompressed records section (Kafka's limits are on compressed bytes). */
    public static final int DEFAULT_MAX_RECORDS_BYTES = 128 << 20;
    /** The smallest encoded record: length, attributes, timestamp and offset deltas, key, value, header count. */
    private static final int MIN_RECORD_SIZE = 7;

    private static final int CODEC_BITS = 0x07;

    private BatchCompression() {
    }

    /**
     * An uncompressed copy of the compressed batch {@code batch} (a heap segment): its header with the
     * codec bits cleared and batchLength fitted, then the decompressed records. The CRC is left as
     * it was (it covers the compressed bytes), so the copy is for reading records, not for storing.
     *
     * @throws ProtocolException if the batch is truncated or not v2, or its records section is corrupt
     *     or decompresses to more than {@code maxRecordsBytes}
     */
    public static MemorySegment decompress(RecordBatch batch, int maxRecordsBytes) {
        Codecs.Bytes records = decompressRecords(batch, maxRecordsBytes);
        int count = batch.recordCount();
        if (records.length() / MIN_RECORD_SIZE < count) {
            throw new ProtocolException("record batch at offset " + batch.offset() + " declares " + count
                    + " records but its " + records.length() + " decompressed bytes cannot hold them");
        }
        byte[] out = new byte[RecordBatch.HEADER_SIZE + records.length()];
        MemorySegment copy = MemorySegment.ofArray(out);
        MemorySegment.copy(batch.segment(), batch.offset(), copy, 0, RecordBatch.HEADER_SIZE);
        System.arraycopy(records.array(), 0, out, RecordBatch.HEADER_SIZE, records.length());
        copy.set(INT, RecordBatch.BATCH_LENGTH_OFFSET, out.length - RecordBatch.LOG_OVERHEAD);
        copy.set(SHORT, RecordBatch.ATTRIBUTES_OFFSET, (short) (batch.attributes() & ~CODEC_BITS));
        return copy;
    }

    /**
     * The decompressed records section of the compressed batch {@code batch}: the records as an
     * uncompressed batch holds them after its header (the first {@code length()} bytes of a heap array).
     *
     * @throws ProtocolException if the batch is truncated or not v2, has a negative record count,
     *     or its records section is corrupt or decompresses to more than {@code maxRecordsBytes}
     */
    public static Codecs.Bytes decompressRecords(RecordBatch batch, int maxRecordsBytes) {
        long start = batch.offset();
        long size = batch.sizeInBytes();
        if (batch.available() < RecordBatch.HEADER_SIZE || size < RecordBatch.HEADER_SIZE || size > batch.available()) {
            throw new ProtocolException("record batch at offset " + start + " is truncated");
        }
        if (batch.magic() != RecordBatch.MAGIC_V2) {
            throw new ProtocolException("record batch at offset " + start + " has magic " + batch.magic() + ", not 2");
        }
        CompressionType type = batch.compressionType();
        if (type == null) {
            throw new ProtocolException("record batch at offset " + start + " uses unknown compression id "
                    + batch.compressionId());
        }
        int count = batch.recordCount();
        if (count < 0) {
            throw new ProtocolException("record batch at offset " + start + " has negative record count " + count);
        }
        byte[] compressed = batch.segment().asSlice(start + RecordBatch.HEADER_SIZE, size - RecordBatch.HEADER_SIZE)
                .toArray(ValueLayout.JAVA_BYTE);
        try {
            return Codecs.decompress(type, compressed, 0, compressed.length, maxRecordsBytes);
        } catch (ProtocolException e) {
            throw new ProtocolException("record batch at offset " + start + " (base offset " + batch.baseOffset()
                    + "): " + e.getMessage(), e);
        }
    }

    /**
     * A compressed copy of the uncompressed batch at the start of {@code batch} (a heap segment):
     * same header but for the codec bits, batchLength and CRC, which are rewritten. {@code NONE}
     * returns {@code batch} itself.
     */
    public static MemorySegment compress(MemorySegment batch, CompressionType type) {
        RecordBatch b = new RecordBatch().wrap(batch, 0);
        int size = (int) b.sizeInBytes();
        if (b.isCompressed()) {
            throw new IllegalArgumentException("batch is already compressed (" + b.compressionType() + ")");
        }
        if (type == CompressionType.NONE) {
            return batch;
        }
        byte[] records = batch.asSlice(RecordBatch.HEADER_SIZE, size - RecordBatch.HEADER_SIZE)
                .toArray(ValueLayout.JAVA_BYTE);
        byte[] compressed = Codecs.compress(type, records, 0, records.length);
        byte[] out = new byte[RecordBatch.HEADER_SIZE + compressed.length];
        MemorySegment copy = MemorySegment.ofArray(out);
        MemorySegment.copy(batch, 0, copy, 0, RecordBatch.HEADER_SIZE);
        System.arraycopy(compressed, 0, out, RecordBatch.HEADER_SIZE, compressed.length);
        copy.set(INT, RecordBatch.BATCH_LENGTH_OFFSET, out.length - RecordBatch.LOG_OVERHEAD);
        copy.set(SHORT, RecordBatch.ATTRIBUTES_OFFSET, (short) ((b.attributes() & ~CODEC_BITS) | type.id()));
        new RecordBatch().wrap(copy, 0).writeCrc();
        return copy;
    }

    /** The codec named as Kafka's {@code compression.type} names it: none, gzip, snappy, lz4, zstd. */
    public static CompressionType forName(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "none", "uncompressed" -> CompressionType.NONE;
            case "gzip" -> CompressionType.GZIP;
            case "snappy" -> CompressionType.SNAPPY;
            case "lz4" -> CompressionType.LZ4;
            case "zstd" -> CompressionType.ZSTD;
            default -> throw new IllegalArgumentException("unknown compression type '" + name
                    + "' (none, gzip, snappy, lz4, zstd)");
        };
    }
}
