package kiri.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Protocol strings read through the cache decode and re-encode exactly as without it. */
class WireStringsTest {
    /** A compact (length-prefixed, flexible) string field holding {@code utf8}, read back. */
    private static String read(byte[] utf8) {
        return read(utf8, 0);
    }

    /** The same, with {@code padding} more bytes in the frame after the string (unread). */
    private static String read(byte[] utf8, int padding) {
        MemorySegment frame = MemorySegment.ofArray(new byte[utf8.length + 5 + padding]);
        frame.fill((byte) 'z');
        WireWriter w = new WireWriter(frame);
        w.writeUnsignedVarint(utf8.length + 1);
        w.writeBytes(utf8);
        return Codec.readString(new WireReader(frame.asSlice(0, w.position() + padding), 0, w.position()), true, false,
                "test");
    }

    private static byte[] write(String s) {
        MemorySegment out = MemorySegment.ofArray(new byte[Codec.stringSize(s, true, false, "test")]);
        WireWriter w = new WireWriter(out);
        Codec.writeString(w, s, true, false, "test");
        assertEquals(out.byteSize(), w.position(), "stringSize agrees with what writeString wrote");
        return out.toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void aRepeatedNameDecodesToTheSameInstanceAndReencodesToItsBytes() {
        byte[] name = "orders-eu-wést-7".getBytes(StandardCharsets.UTF_8);
        String first = read(name.clone());
        String second = read(name.clone());
        assertEquals("orders-eu-wést-7", first);
        assertSame(first, second, "the second decode comes from the cache");
        byte[] encoded = write(new String(first.toCharArray())); // an equal string, not the cached instance
        assertEquals(name.length + 1, encoded[0], "compact length prefix");
        assertArrayEquals(name, Arrays.copyOfRange(encoded, 1, encoded.length));
    }

    @Test
    void namesThatDifferInOneByteDecodeToThemselves() {
        // every length up to past two longs, a byte changed at every position: the cache compares the
        // first and last eight bytes as longs and the middle byte by byte, and must never mix names up
        for (int length = 1; length <= 40; length++) {
            byte[] name = new byte[length];
            for (int i = 0; i < length; i++) {
                name[i] = (byte) ('a' + i % 26);
            }
            String original = new String(name, StandardCharsets.US_ASCII);
            for (int at = 0; at < length; at++) {
                byte[] other = name.clone();
                other[at] = '#';
                String changed = new String(other, StandardCharsets.US_ASCII);
                for (int padding : new int[] {0, 8}) {
                    assertEquals(original, read(name, padding));
                    assertEquals(changed, read(other, padding), "byte " + at + " of " + length + ", padding " + padding);
                    assertEquals(original, read(name, padding));
                }
            }
        }
    }

    @Test
    void aShortNameReadsTheSameAtTheEndOfItsFrameAndBeforeMoreBytes() {
        byte[] name = "t-1".getBytes(StandardCharsets.US_ASCII);
        String atEnd = read(name, 0);
        assertSame(atEnd, read(name, 8), "both ways of reading a short name find the same cache entry");
    }

    @Test
    void malformedUtf8IsNotCachedAndReencodesCanonically() {
        byte[] bad = {'a', (byte) 0xff, 'b'};
        String s = read(bad);
        assertEquals("a\uFFFDb", s);
        assertNull(WireStrings.utf8(s), "bytes that are not the string's UTF-8 must not be reused");
        assertNotSame(s, read(bad));
        byte[] canonical = "a\uFFFDb".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(canonical, Arrays.copyOfRange(write(s), 1, canonical.length + 1));
    }

    @Test
    void longStringsBypassTheCache() {
        String big = "x".repeat(300);
        String once = read(big.getBytes(StandardCharsets.US_ASCII));
        assertEquals(big, once);
        assertNotSame(once, read(big.getBytes(StandardCharsets.US_ASCII)));
    }
}
