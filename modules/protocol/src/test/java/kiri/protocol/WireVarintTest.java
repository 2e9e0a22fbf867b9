package kiri.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.kafka.common.utils.ByteUtils;
import org.junit.jupiter.api.Test;

/**
 * Varints against kafka-clients' {@link ByteUtils}: the same bytes out, the same values back, read
 * both where five bytes remain (the unrolled path) and where the varint ends the input (the
 * byte-by-byte path near the limit).
 */
class WireVarintTest {
    private static final int[] EDGES = {0, 1, 63, 64, 127, 128, 8191, 8192, 16383, 16384, (1 << 21) - 1, 1 << 21,
            (1 << 28) - 1, 1 << 28, Integer.MAX_VALUE, Integer.MIN_VALUE, -1, -64, -65, 16 * 1024 + 61};

    private static int[] values() {
        SplittableRandom random = new SplittableRandom(7);
        return IntStream.concat(Arrays.stream(EDGES), IntStream.range(0, 2000).map(i -> random.nextInt() >> random.nextInt(32)))
                .toArray();
    }

    private static byte[] kafkaUnsigned(int v) {
        ByteBuffer b = ByteBuffer.allocate(5);
        ByteUtils.writeUnsignedVarint(v, b);
        return Arrays.copyOf(b.array(), b.position());
    }

    private static byte[] kafkaVarlong(long v) {
        ByteBuffer b = ByteBuffer.allocate(10);
        ByteUtils.writeVarlong(v, b);
        return Arrays.copyOf(b.array(), b.position());
    }

    /** {@code bytes} off-heap, followed by {@code padding} more bytes. */
    private static WireReader reader(byte[] bytes, int padding) {
        MemorySegment s = Arena.ofAuto().allocate(bytes.length + padding);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
        s.asSlice(bytes.length).fill((byte) 0xff);
        return new WireReader(s);
    }

    private static byte[] written(java.util.function.Consumer<WireWriter> write) {
        MemorySegment s = Arena.ofAuto().allocate(16);
        WireWriter w = new WireWriter(s);
        write.accept(w);
        return s.asSlice(0, w.position()).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void unsignedVarintsMatchKafkaBothWays() {
        for (int v : values()) {
            byte[] expected = kafkaUnsigned(v);
            assertArrayEquals(expected, written(w -> w.writeUnsignedVarint(v)), "write " + v);
            assertEquals(expected.length, Sizes.unsignedVarintSize(v), "size " + v);
            for (int padding : new int[] {0, 1, 4, 5, 8}) {
                WireReader r = reader(expected, padding);
                assertEquals(v, r.readUnsignedVarint(), "read " + v + " with " + padding + " bytes after it");
                assertEquals(expected.length, r.position(), "position after " + v);
            }
        }
    }

    @Test
    void zigZagVarintsAndVarlongsMatchKafkaBothWays() {
        SplittableRandom random = new SplittableRandom(11);
        for (int v : values()) {
            ByteBuffer b = ByteBuffer.allocate(5);
            ByteUtils.writeVarint(v, b);
            byte[] expected = Arrays.copyOf(b.array(), b.position());
            assertArrayEquals(expected, written(w -> w.writeVarint(v)), "write varint " + v);
            assertEquals(v, reader(expected, 0).readVarint(), "read varint " + v);
            assertEquals(v, reader(expected, 5).readVarint(), "read varint " + v + " before more bytes");

            long l = ((long) v << 32) ^ random.nextLong() >> random.nextInt(64);
            byte[] expectedLong = kafkaVarlong(l);
            assertArrayEquals(expectedLong, written(w -> w.writeVarlong(l)), "write varlong " + l);
            assertEquals(l, reader(expectedLong, 0).readVarlong(), "read varlong " + l);
            assertEquals(expectedLong.length, Sizes.varlongSize(l), "varlong size " + l);
        }
    }

    @Test
    void overlongVarintsAndTruncatedOnesAreProtocolErrors() {
        // five bytes (the unrolled path) can overflow 32 bits; fewer than five before the limit (the byte-by-byte
        // path) can only run out
        byte[] tooBig = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x1f}; // 33 bits
        byte[] tooLong = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x00};
        for (int padding : new int[] {0, 5}) {
            ProtocolException big = assertThrows(ProtocolException.class, () -> reader(tooBig, padding).readUnsignedVarint());
            assertEquals("unsigned varint at offset 4 does not fit in 32 bits", big.getMessage());
            assertThrows(ProtocolException.class, () -> reader(tooLong, padding).readUnsignedVarint());
        }
        for (int length = 1; length <= 4; length++) {
            byte[] cut = new byte[length];
            Arrays.fill(cut, (byte) 0x80);
            WireReader r = reader(cut, 0);
            assertThrows(ProtocolException.class, r::readUnsignedVarint, length + " continuation bytes, then the end");
        }
    }
}
