package kiri.protocol;

import static kiri.protocol.BigEndian.DOUBLE;
import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * A cursor that writes Kafka wire data (big-endian) into a {@link MemorySegment}.
 *
 * <p>Encoders compute the exact size first ({@code Message.size}) and then write once, so the
 * target is allocated at its final size; writing past the end is a bug and fails with the
 * segment's own bounds check. Not thread-safe.
 *
 * <p>A {@link Splicer} may take over the regions of {@code records} fields ({@link #writeRecords}),
 * e.g. to leave stored batches out of the output and send them from where they are. Without one, memory
 * regions are copied and a file region is an error.
 */
public final class WireWriter {
    private final MemorySegment segment;
    private final Splicer splicer;
    private long position;

    /**
     * Sees every region of a records field before {@link #writeRecords} copies it, so an encoder can
     * write batches by reference (zero-copy sends). Called on the writing thread.
     */
    @FunctionalInterface
    public interface Splicer {
        /**
         * Returns false to let the writer copy a {@link Records.Memory} region as usual; true if it
         * dealt with the region itself: wrote it through {@code writer}, or left it out of the output,
         * in which case the output is that much shorter than the encoded size and the splicer must
         * remember where the bytes belong ({@code writer.position()}). A {@link Records.FileRegion}
         * must be taken.
         */
        boolean splice(WireWriter writer, Records.Region region);
    }

    public WireWriter(MemorySegment segment) {
        this(segment, 0);
    }

    public WireWriter(MemorySegment segment, long offset) {
        this(segment, offset, null);
    }

    /** @param splicer null for plain copies */
    public WireWriter(MemorySegment segment, long offset, Splicer splicer) {
        this.segment = segment;
        this.position = offset;
        this.splicer = splicer;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long position() {
        return position;
    }

    public void position(long newPosition) {
        position = newPosition;
    }

    public void writeBool(boolean v) {
        segment.set(ValueLayout.JAVA_BYTE, position++, v ? (byte) 1 : (byte) 0);
    }

    public void writeInt8(byte v) {
        segment.set(ValueLayout.JAVA_BYTE, position++, v);
    }

    public void writeInt16(short v) {
        segment.set(SHORT, position, v);
        position += 2;
    }

    public void writeUint16(int v) {
        writeInt16((short) v);
    }

    public void writeInt32(int v) {
        segment.set(INT, position, v);
        position += 4;
    }

    public void writeUint32(long v) {
        writeInt32((int) v);
    }

    public void writeInt64(long v) {
        segment.set(LONG, position, v);
        position += 8;
    }

    public void writeFloat64(double v) {
        segment.set(DOUBLE, position, v);
        position += 8;
    }

    public void writeUuid(UUID v) {
        writeInt64(v.getMostSignificantBits());
        writeInt64(v.getLeastSignificantBits());
    }

    public void writeUnsignedVarint(int v) {
        if ((v & 0xffffff80) == 0) {
            // one byte: nearly every length, count and tag; a small method inlines where the loop would not
            segment.set(ValueLayout.JAVA_BYTE, position++, (byte) v);
        } else {
            writeLongUnsignedVarint(v);
        }
    }

    private void writeLongUnsignedVarint(int v) {
        while ((v & 0xffffff80) != 0) {
            segment.set(ValueLayout.JAVA_BYTE, position++, (byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        segment.set(ValueLayout.JAVA_BYTE, position++, (byte) v);
    }

    public void writeVarint(int v) {
        writeUnsignedVarint((v << 1) ^ (v >> 31));
    }

    public void writeVarlong(long v) {
        long z = (v << 1) ^ (v >> 63);
        while ((z & 0xffffffffffffff80L) != 0) {
            segment.set(ValueLayout.JAVA_BYTE, position++, (byte) ((z & 0x7f) | 0x80));
            z >>>= 7;
        }
        segment.set(ValueLayout.JAVA_BYTE, position++, (byte) z);
    }

    /** Writes the UTF-8 bytes of {@code s}; the caller has written the length ({@link Sizes#utf8Length}). */
    public void writeUtf8(String s) {
        int n = s.length();
        int i = 0;
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                break;
            }
            segment.set(ValueLayout.JAVA_BYTE, position++, (byte) c);
        }
        if (i < n) {
            byte[] rest = s.substring(i).getBytes(StandardCharsets.UTF_8);
            MemorySegment.copy(rest, 0, segment, ValueLayout.JAVA_BYTE, position, rest.length);
            position += rest.length;
        }
    }

    /** Copies {@code bytes} here. */
    public void writeBytes(byte[] bytes) {
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, position, bytes.length);
        position += bytes.length;
    }

    /** Writes the batches of {@code records} (not its length): copied, unless the {@link Splicer} takes them. */
    public void writeRecords(Records records) {
        switch (records) {
            case Records.Region region -> writeRegion(region);
            case Records.Regions rs -> {
                java.util.List<Records.Region> regions = rs.regions();
                for (int i = 0, n = regions.size(); i < n; i++) {
                    writeRegion(regions.get(i));
                }
            }
        }
    }

    private void writeRegion(Records.Region region) {
        if (splicer != null && splicer.splice(this, region)) {
            return;
        }
        switch (region) {
            case Records.Memory(MemorySegment segment) -> writeSegment(segment);
            case Records.FileRegion f -> throw new IllegalStateException(
                    "a file region of " + f.length() + " bytes needs a writer that splices it out");
        }
    }

    /** Copies all bytes of {@code source} here. */
    public void writeSegment(MemorySegment source) {
        long n = source.byteSize();
        MemorySegment.copy(source, 0, segment, position, n);
        position += n;
    }
}
