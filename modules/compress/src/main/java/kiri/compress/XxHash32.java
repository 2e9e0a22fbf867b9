package kiri.compress;

/** XXH32, for the LZ4 frame descriptor's checksum (the second byte of XXH32 of FLG..end, seed 0). */
final class XxHash32 {
    private static final int P1 = 0x9E3779B1;
    private static final int P2 = 0x85EBCA77;
    private static final int P3 = 0xC2B2AE3D;
    private static final int P4 = 0x27D4EB2F;
    private static final int P5 = 0x165667B1;

    private XxHash32() {
    }

    static int hash(byte[] b, int offset, int length, int seed) {
        int p = offset;
        int end = offset + length;
        int h;
        if (length >= 16) {
            int v1 = seed + P1 + P2;
            int v2 = seed + P2;
            int v3 = seed;
            int v4 = seed - P1;
            do {
                v1 = round(v1, intLE(b, p));
                v2 = round(v2, intLE(b, p + 4));
                v3 = round(v3, intLE(b, p + 8));
                v4 = round(v4, intLE(b, p + 12));
                p += 16;
            } while (p <= end - 16);
            h = Integer.rotateLeft(v1, 1) + Integer.rotateLeft(v2, 7) + Integer.rotateLeft(v3, 12)
                    + Integer.rotateLeft(v4, 18);
        } else {
            h = seed + P5;
        }
        h += length;
        for (; p <= end - 4; p += 4) {
            h = Integer.rotateLeft(h + intLE(b, p) * P3, 17) * P4;
        }
        for (; p < end; p++) {
            h = Integer.rotateLeft(h + (b[p] & 0xff) * P5, 11) * P1;
        }
        h ^= h >>> 15;
        h *= P2;
        h ^= h >>> 13;
        h *= P3;
        h ^= h >>> 16;
        return h;
    }

    private static int round(int acc, int input) {
        return Integer.rotateLeft(acc + input * P2, 13) * P1;
    }

    private static int intLE(byte[] b, int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
    }
}
