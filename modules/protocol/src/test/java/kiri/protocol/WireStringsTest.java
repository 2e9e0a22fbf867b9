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
        MemorySegment frame = MemorySegment.ofArray(new byte[utf8.length + 5]);
        WireWriter w = new WireWriter(frame);
        w.writeUnsignedVarint(utf8.length + 1);
        w.writeBytes(utf8);
        return Codec.readString(new WireReader(frame.asSlice(0, w.position())), true, false, "test");
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
    void namesThatShareTheirCacheSlotStillDecodeToThemselves() {
        // same length, first, middle (index 5) and last byte: the same slot, so each evicts the other
        String a = read("tAxxxxxxx-1".getBytes(StandardCharsets.US_ASCII));
        String b = read("tBxxxxxxx-1".getBytes(StandardCharsets.US_ASCII));
        assertEquals("tAxxxxxxx-1", a);
        assertEquals("tBxxxxxxx-1", b);
        assertEquals("tAxxxxxxx-1", read("tAxxxxxxx-1".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("tBxxxxxxx-1", read("tBxxxxxxx-1".getBytes(StandardCharsets.US_ASCII)));
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
