package kiri.protocol;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    private static final int SLOTS = 1 << 9;
    private static final int MAX_BYTES = 255;

    private record Entry(String string, byte[] utf8, MemorySegment bytes) {
    }

    private static final Entry[] BY_BYTES = new Entry[SLOTS];
    private static final Entry[] BY_STRING = new Entry[SLOTS];

    private WireStrings() {}

    /** Decodes {@code length > 0} bytes of UTF-8 at {@code at}, from the cache when they were seen lately. */
    static String decode(MemorySegment segment, long at, int length) {
        if (length > MAX_BYTES) {
            return decodePlain(segment, at, length);
        }
        int slot = bytesSlot(segment, at, length);
        Entry e = BY_BYTES[slot];
        if (e != null && e.utf8.length == length && MemorySegment.mismatch(segment, at, at + length, e.bytes, 0, length) < 0) {
            return e.string;
        }
        byte[] bytes = new byte[length];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, at, bytes, 0, length);
        String s = new String(bytes, StandardCharsets.UTF_8);
        if (isCanonical(s, bytes)) {
            Entry fresh = new Entry(s, bytes, MemorySegment.ofArray(bytes));
            BY_BYTES[slot] = fresh;
            BY_STRING[s.hashCode() & (SLOTS - 1)] = fresh;
        }
        return s;
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

    /** A slot from the length and three of the bytes: names that differ (topic-0, topic-1) mostly differ there. */
    private static int bytesSlot(MemorySegment segment, long at, int length) {
        int first = segment.get(ValueLayout.JAVA_BYTE, at);
        int middle = segment.get(ValueLayout.JAVA_BYTE, at + (length >>> 1));
        int last = segment.get(ValueLayout.JAVA_BYTE, at + length - 1);
        int h = ((length * 31 + first) * 31 + middle) * 31 + last;
        return (h ^ (h >>> 9)) & (SLOTS - 1);
    }
}
