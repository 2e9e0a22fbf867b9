package kiri.protocol;

import static kiri.protocol.BigEndian.DOUBLE;
import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.UUID;

/**
 * A bounds-checked cursor over a {@link MemorySegment} holding Kafka wire data (big-endian).
 *
 * <p>Every read checks the bytes that remain first and throws {@link ProtocolException} naming
 * the offset when they are too few, so a reader never reads past its limit nor allocates more than
 * the input holds. Slices ({@link #readSlice}) are views of the input, not copies: they stay valid
 * as long as the input segment does. Not thread-safe; one reader per decode.
 */
public final class WireReader {

    private final MemorySegment segment;
    private final long limit;
    private long position;

    /** Reads the whole segment. */
    public WireReader(MemorySegment segment) {
        this(segment, 0, segment.byteSize());
    }

    /** Reads {@code length} bytes of {@code segment} starting at {@code offset}. */
    public WireReader(MemorySegment segment, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > segment.byteSize()) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside segment of "
                    + segment.byteSize() + " bytes");
        }
        this.segment = segment;
        this.position = offset;
        this.limit = offset + length;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long position() {
        return position;
    }

    public void position(long newPosition) {
        if (newPosition < 0 || newPosition > limit) {
            throw new ProtocolException("position " + newPosition + " outside limit " + limit);
        }
        position = newPosition;
    }

    public long limit() {
        return limit;
    }

    public long remaining() {
        return limit - position;
    }

    private long take(long n) {
        long at = position;
        if (limit - at < n) {
            throw ProtocolException.truncated(at, n, limit - at);
        }
        position = at + n;
        return at;
    }

    public boolean readBool() {
        return segment.get(ValueLayout.JAVA_BYTE, take(1)) != 0;
    }

    public byte readInt8() {
        return segment.get(ValueLayout.JAVA_BYTE, take(1));
    }

    public short readInt16() {
        return segment.get(SHORT, take(2));
    }

    public int readUint16() {
        return Short.toUnsignedInt(segment.get(SHORT, take(2)));
    }

    public int readInt32() {
        return segment.get(INT, take(4));
    }

    public long readUint32() {
        return Integer.toUnsignedLong(segment.get(INT, take(4)));
    }

    public long readInt64() {
        return segment.get(LONG, take(8));
    }

    public double readFloat64() {
        return segment.get(DOUBLE, take(8));
    }

    public UUID readUuid() {
        long at = take(16);
        return new UUID(segment.get(LONG, at), segment.get(LONG, at + 8));
    }

    /** An unsigned LEB128 varint of at most 5 bytes, as Kafka writes lengths and tags. */
    public int readUnsignedVarint() {
        long at = position;
        if (at < limit) {
            byte first = segment.get(ValueLayout.JAVA_BYTE, at);
            if (first >= 0) {
                // one byte: nearly every length, count and tag on the wire
                position = at + 1;
                return first;
            }
        }
        return readLongUnsignedVarint();
    }

    private int readLongUnsignedVarint() {
        long at = position;
        if (limit - at < 5) {
            return readUnsignedVarintNearLimit();
        }
        // all five bytes a varint may take are there: one bounds check instead of one per byte
        int b = segment.get(ValueLayout.JAVA_BYTE, at);
        int value = b & 0x7f;
        for (int i = 1; i < 4; i++) {
            if (b >= 0) {
                position = at + i;
                return value;
            }
            b = segment.get(ValueLayout.JAVA_BYTE, at + i);
            value |= (b & 0x7f) << (7 * i);
        }
        if (b >= 0) {
            position = at + 4;
            return value;
        }
        b = segment.get(ValueLayout.JAVA_BYTE, at + 4);
        if ((b & 0xf0) != 0) {
            throw new ProtocolException("unsigned varint at offset " + (at + 4) + " does not fit in 32 bits");
        }
        position = at + 5;
        return value | b << 28;
    }

    /** Fewer than five bytes left: the varint ends within them, or it is truncated ({@link #readInt8} throws). */
    private int readUnsignedVarintNearLimit() {
        int value = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = readInt8();
            value |= (b & 0x7f) << shift;
            if (b >= 0) {
                return value;
            }
        }
    }

    /** A zig-zag varint (record fields). */
    public int readVarint() {
        int raw = readUnsignedVarint();
        return (raw >>> 1) ^ -(raw & 1);
    }

    /** A zig-zag varlong of at most 10 bytes (record fields). */
    public long readVarlong() {
        long value = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            long at = position;
            byte b = readInt8();
            if (shift == 63 && (b & 0xfe) != 0) {
                throw new ProtocolException("varlong at offset " + at + " does not fit in 64 bits");
            }
            value |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return (value >>> 1) ^ -(value & 1);
            }
        }
        throw new ProtocolException("varlong longer than 10 bytes ending at offset " + position);
    }

    /** A view of the next {@code length} bytes; no copy. */
    public MemorySegment readSlice(long length) {
        if (length < 0) {
            throw new ProtocolException("negative length " + length + " at offset " + position);
        }
        return segment.asSlice(take(length), length);
    }

    /** Decodes the next {@code length} bytes as UTF-8. */
    public String readUtf8(int length) {
        if (length < 0) {
            throw new ProtocolException("negative string length " + length + " at offset " + position);
        }
        long at = take(length);
        return length == 0 ? "" : WireStrings.decode(segment, at, length);
    }

    public void skip(long n) {
        take(n);
    }

    /** A length or count read from the wire must fit in what is left, given a minimum element size. */
    public void requireElements(long count, int minElementSize, String what) {
        if (count < 0) {
            throw new ProtocolException(what + ": negative length " + count + " at offset " + position);
        }
        if (count * (long) minElementSize > remaining()) {
            throw new ProtocolException(what + ": length " + count + " at offset " + position
                    + " exceeds the " + remaining() + " bytes remaining");
        }
    }
}
