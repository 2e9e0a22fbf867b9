package kiri.protocol;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Recently decoded protocol strings, keyed by their wire bytes and by the strings themselves: the
 * topic names and client ids that every request repeats are decoded once, come back as the same
 * {@link String} instance, and are re-encoded by one bulk copy instead of a char-by-char pass (twice:
 * size, then write).
 *
 * <p>Only strings whose wire bytes are exactly their canonical UTF-8 encoding are kept, so a cached
 * encode writes what the plain path would. Any thread: the tables are racy caches of immutable
 * entries (a lost or stale slot only costs a miss), and entries publish safely through final fields.
 */
final class WireStrings {
    private static final int SLOT_BITS = 9;
    private static final int SLOTS = 1 << SLOT_BITS;
    private static final int MAX_BYTES = 255;
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * A cached string and its UTF-8 bytes; {@code head} and {@code tail} are the first and last (up to)
     * eight of those bytes as {@code head(...)} and {@code tail(...)} read them, so a lookup compares two longs.
     */
    private record Entry(String string, byte[] utf8, MemorySegment bytes, long head, long tail) {
    }

    private static final Entry[] BY_BYTES = new Entry[SLOTS];
    private static final Entry[] BY_STRING = new Entry[SLOTS];

    private WireStrings() {}

    /** Decodes {@code length > 0} bytes of UTF-8 at {@code at}, from the cache when they were seen lately. */
    static String decode(MemorySegment segment, long at, int length) {
        if (length > MAX_BYTES) {
            return decodePlain(segment, at, length);
        }
        long head = head(segment, at, length);
        long tail = tail(segment, at, length);
        int slot = slot(head, tail, length);
        Entry e = BY_BYTES[slot];
        if (e != null && e.head == head && e.tail == tail && e.utf8.length == length
                && (length <= 16 || MemorySegment.mismatch(segment, at + 8, at + length - 8, e.bytes, 8, length - 8) < 0)) {
            return e.string;
        }
        return decodeMiss(segment, at, length, slot);
    }

    private static String decodeMiss(MemorySegment segment, long at, int length, int slot) {
        byte[] bytes = new byte[length];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, at, bytes, 0, length);
        String s = new String(bytes, StandardCharsets.UTF_8);
        if (isCanonical(s, bytes)) {
            MemorySegment view = MemorySegment.ofArray(bytes);
            Entry fresh = new Entry(s, bytes, view, head(view, 0, length), tail(view, 0, length));
            BY_BYTES[slot] = fresh;
            BY_STRING[s.hashCode() & (SLOTS - 1)] = fresh;
        }
        return s;
    }

    /**
     * The first {@code min(length, 8)} bytes at {@code at} as a little-endian long (zero above them):
     * one read when the segment has eight bytes there, else byte by byte; both give the same value.
     */
    static long head(MemorySegment segment, long at, int length) {
        if (length >= 8) {
            return segment.get(LE_LONG, at);
        }
        if (segment.byteSize() - at >= 8) {
            return segment.get(LE_LONG, at) & ((1L << (length << 3)) - 1);
        }
        long v = 0;
        for (int i = 0; i < length; i++) {
            v |= (segment.get(ValueLayout.JAVA_BYTE, at + i) & 0xffL) << (i << 3);
        }
        return v;
    }

    /** The last eight bytes of a string of at least eight; shorter ones are all in their head. */
    static long tail(MemorySegment segment, long at, int length) {
        return length >= 8 ? segment.get(LE_LONG, at + length - 8) : 0;
    }

    /**
     * Mixes every byte of head and tail into the slot: a product only carries bits upwards, so the
     * top bits are taken after a second multiply (names such as topic-1, topic-2 differ in their last byte).
     */
    static int slot(long head, long tail, int length) {
        long h = head * 0x9E3779B97F4A7C15L + Long.rotateLeft(tail * 0xC2B2AE3D27D4EB4FL, 31) + length;
        h ^= h >>> 32;
        return (int) ((h * 0x9E3779B97F4A7C15L) >>> (64 - SLOT_BITS));
    }

    /**
     * Whether {@code bytes} is exactly the UTF-8 encoding of {@code s}, their decoding (malformed input
     * decodes to U+FFFD and must not be reused). One char per byte and no U+FFFD means every byte was ASCII:
     * the common case, decided without encoding again.
     */
    private static boolean isCanonical(String s, byte[] bytes) {
        if (s.length() == bytes.length && s.indexOf('\uFFFD') < 0) {
            return true;
        }
        return Arrays.equals(s.getBytes(StandardCharsets.UTF_8), bytes);
    }

    /** The UTF-8 encoding of {@code s} if it is cached (do not modify it), else null. */
    static byte[] utf8(String s) {
        Entry e = BY_STRING[s.hashCode() & (SLOTS - 1)];
        return e != null && (e.string == s || e.string.equals(s)) ? e.utf8 : null;
    }

    private static String decodePlain(MemorySegment segment, long at, int length) {
        byte[] bytes = new byte[length];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, at, bytes, 0, length);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
