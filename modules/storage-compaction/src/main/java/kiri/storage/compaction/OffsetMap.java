package kiri.storage.compaction;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The cleaner's map from key to the offset of its latest record, as Kafka's dedupe buffer: keys are kept as a
 * 128-bit hash (two independent 64-bit hashes), never as objects, in one open-addressing {@code long[]} that
 * grows up to {@code maxEntries}. Not thread-safe: one per cleaner thread.
 */
public final class OffsetMap {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long P1 = 0x9E3779B97F4A7C15L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private final int maxEntries;
    private long[] slots; // (h1, h2, offset) per slot; h1 == 0 marks an empty slot
    private int size;
    private long h1;
    private long h2;

    public OffsetMap(int maxEntries) {
        this.maxEntries = maxEntries;
        this.slots = new long[3 * 1024];
    }

    /** Records {@code offset} as the latest of the key at {@code [at, at + length)} of {@code s}; false when full. */
    public boolean put(MemorySegment s, long at, int length, long offset) {
        hash(s, at, length);
        int i = find();
        if (slots[i] != 0) {
            if (offset > slots[i + 2]) slots[i + 2] = offset;
            return true;
        }
        if (size >= maxEntries) return false;
        if ((size + 1) * 2 > slots.length / 3) {
            grow();
            i = find();
        }
        slots[i] = h1;
        slots[i + 1] = h2;
        slots[i + 2] = offset;
        size++;
        return true;
    }

    /** The latest offset recorded for the key, or -1. */
    public long latest(MemorySegment s, long at, int length) {
        hash(s, at, length);
        int i = find();
        return slots[i] == 0 ? -1L : slots[i + 2];
    }

    public int size() {
        return size;
    }

    public void clear() {
        java.util.Arrays.fill(slots, 0L);
        size = 0;
    }

    private int find() {
        int n = slots.length / 3;
        int i = (int) ((h1 ^ (h1 >>> 32)) & 0x7FFFFFFF) % n;
        while (slots[3 * i] != 0 && (slots[3 * i] != h1 || slots[3 * i + 1] != h2)) i = i + 1 == n ? 0 : i + 1;
        return 3 * i;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        long k1 = h1;
        long k2 = h2;
        for (int i = 0; i < old.length; i += 3) {
            if (old[i] == 0) continue;
            h1 = old[i];
            h2 = old[i + 1];
            int j = find();
            slots[j] = h1;
            slots[j + 1] = h2;
            slots[j + 2] = old[i + 2];
        }
        h1 = k1;
        h2 = k2;
    }

    private void hash(MemorySegment s, long at, int length) {
        long a = 0x243F6A8885A308D3L ^ length;
        long b = 0x13198A2E03707344L + length;
        long p = at;
        long end = at + length;
        for (; p + 8 <= end; p += 8) {
            long w = s.get(LONG, p);
            a = Long.rotateLeft(a ^ w * P1, 31) * P2;
            b = Long.rotateLeft(b + w * P2, 29) * P1;
        }
        long tail = 0;
        for (int shift = 0; p < end; p++, shift += 8) tail |= (s.get(ValueLayout.JAVA_BYTE, p) & 0xFFL) << shift;
        a = mix(a ^ tail * P1);
        b = mix(b + tail * P2 + 1);
        h1 = a == 0 ? 1 : a;
        h2 = b;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}
