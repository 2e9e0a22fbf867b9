package kiri.protocol.record;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/** Test helpers: v2 records and batches written byte by byte, well-formed or not, with a valid CRC. */
final class RawBatches {
    private RawBatches() {
    }

    /** Bytes written field by field in the record encoding (zig-zag varints). */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer int8(int b) {
            out.write(b);
            return this;
        }

        Writer varint(int v) {
            return unsignedVarlong(Integer.toUnsignedLong((v << 1) ^ (v >> 31)));
        }

        Writer varlong(long v) {
            return unsignedVarlong((v << 1) ^ (v >> 63));
        }

        private Writer unsignedVarlong(long raw) {
            while ((raw & ~0x7fL) != 0) {
                out.write((int) ((raw & 0x7f) | 0x80));
                raw >>>= 7;
            }
            out.write((int) raw);
            return this;
        }

        /** A length varint and the bytes; -1 for null. */
        Writer bytes(byte[] b) {
            if (b == null) {
                return varint(-1);
            }
            varint(b.length);
            return raw(b);
        }

        Writer raw(byte[] b) {
            out.write(b, 0, b.length);
            return this;
        }

        byte[] toArray() {
            return out.toByteArray();
        }
    }

    /** A record's fields up to (not including) the header count: attributes, deltas, key, value. */
    static Writer body(int offsetDelta, long timestampDelta, byte[] key, byte[] value) {
        return new Writer().int8(0).varlong(timestampDelta).varint(offsetDelta).bytes(key).bytes(value);
    }

    /** A record: its body's length varint, then the body. */
    static byte[] record(Writer body) {
        byte[] b = body.toArray();
        return new Writer().varint(b.length).raw(b).toArray();
    }

    /** A well-formed record without headers. */
    static byte[] record(int offsetDelta, long timestampDelta, byte[] key, byte[] value) {
        return record(body(offsetDelta, timestampDelta, key, value).varint(0));
    }

    /**
     * An uncompressed batch declaring {@code count} records (lastOffsetDelta count - 1), holding
     * {@code records} whatever they are, with {@code attributes} and a valid CRC.
     */
    static RecordBatch batch(int count, long baseTimestamp, long maxTimestamp, int attributes, byte[]... records) {
        Writer all = new Writer();
        for (byte[] r : records) {
            all.raw(r);
        }
        byte[] section = all.toArray();
        ByteBuffer b = ByteBuffer.allocate(RecordBatch.HEADER_SIZE + section.length);
        b.putLong(0L).putInt(RecordBatch.HEADER_SIZE + section.length - RecordBatch.LOG_OVERHEAD).putInt(-1)
                .put(RecordBatch.MAGIC_V2).putInt(0).putShort((short) attributes).putInt(count - 1)
                .putLong(baseTimestamp).putLong(maxTimestamp).putLong(-1L).putShort((short) -1).putInt(-1)
                .putInt(count).put(section);
        return new RecordBatch().wrap(MemorySegment.ofArray(b.array()), 0).writeCrc();
    }

    /** {@link #batch} with CreateTime timestamps: base {@code timestamp}, max the same. */
    static RecordBatch batch(int count, long timestamp, byte[]... records) {
        return batch(count, timestamp, timestamp, 0, records);
    }
}
