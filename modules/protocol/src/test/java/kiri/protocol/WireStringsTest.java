package kiri.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
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
        for (int length = 1; length < 8; length++) {
            byte[] name = "abcdefg".substring(0, length).getBytes(StandardCharsets.US_ASCII);
            String atEnd = read(name, 0);
            assertSame(atEnd, read(name, 8), "both ways of reading a " + length + "-byte name find the same entry");
        }
    }

    private static int slot(String name) {
        MemorySegment bytes = MemorySegment.ofArray(name.getBytes(StandardCharsets.UTF_8));
        int length = (int) bytes.byteSize();
        return WireStrings.slot(WireStrings.head(bytes, 0, length), WireStrings.tail(bytes, 0, length), length);
    }

    @Test
    void numberedNamesSpreadOverTheSlots() {
        // names that differ only in their last one or two bytes must not all share a few slots
        for (String prefix : new String[] {"t-", "topic-", "orders-", "bench-topic-", "a-rather-long-topic-name-"}) {
            Set<Integer> slots = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                slots.add(slot(prefix + i));
            }
            assertTrue(slots.size() >= 80, prefix + "0.." + prefix + "99 use only " + slots.size() + " slots");
        }
        String one = read("bench-topic-1".getBytes(StandardCharsets.US_ASCII));
        read("bench-topic-2".getBytes(StandardCharsets.US_ASCII));
        assertSame(one, read("bench-topic-1".getBytes(StandardCharsets.US_ASCII)), "its neighbour did not evict it");
    }

    @Test
    void namesSharingASlotNeverStandInForEachOther() {
        // pairs that land in the same slot, differing in the first eight bytes, the last eight or the middle:
        // the second evicts the first, and neither is ever taken for the other
        SplittableRandom random = new SplittableRandom(3);
        for (int length : new int[] {5, 12, 30}) {
            for (int differ = 0; differ < (length > 16 ? 3 : 2); differ++) {
                Map<Integer, String> bySlot = new HashMap<>();
                String a = null;
                String b = null;
                while (b == null) {
                    char[] chars = "abcdefghijklmnopqrstuvwxyz0123".substring(0, length).toCharArray();
                    int at = switch (differ) {
                        case 0 -> random.nextInt(Math.min(8, length));
                        case 1 -> length - 1 - random.nextInt(Math.min(8, length));
                        default -> 8 + random.nextInt(Math.max(1, length - 16));
                    };
                    chars[at] = (char) ('A' + random.nextInt(26));
                    String name = new String(chars);
                    String other = bySlot.putIfAbsent(slot(name), name);
                    if (other != null && !other.equals(name)) {
                        a = other;
                        b = name;
                    }
                }
                String first = read(a.getBytes(StandardCharsets.US_ASCII));
                assertEquals(b, read(b.getBytes(StandardCharsets.US_ASCII)), a + " stood in for " + b);
                String again = read(a.getBytes(StandardCharsets.US_ASCII));
                assertEquals(a, again, b + " stood in for " + a);
                assertNotSame(first, again, a + " and " + b + " share a slot, so the second evicted the first");
            }
        }
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
