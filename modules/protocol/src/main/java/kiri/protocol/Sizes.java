package kiri.protocol;

/** Encoded sizes of variable-length wire items, for the size-then-write encoders. */
public final class Sizes {
    private Sizes() {
    }

    public static int unsignedVarintSize(int v) {
        // 1 byte per 7 significant bits, at least one byte
        int bits = 32 - Integer.numberOfLeadingZeros(v | 1);
        return (bits + 6) / 7;
    }

    public static int varintSize(int v) {
        return unsignedVarintSize((v << 1) ^ (v >> 31));
    }

    public static int varlongSize(long v) {
        long z = (v << 1) ^ (v >> 63);
        int bits = 64 - Long.numberOfLeadingZeros(z | 1);
        return (bits + 6) / 7;
    }

    /** The number of bytes {@code s} takes in UTF-8 (unpaired surrogates count as '?', as String.getBytes does). */
    public static int utf8Length(String s) {
        int n = s.length();
        int bytes = n;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                if (c < 0x800) {
                    bytes += 1;
                } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    bytes += 2; // 4 bytes for the pair, counted over two chars
                    i++;
                } else if (Character.isSurrogate(c)) {
                    // encoded as a single '?'
                } else {
                    bytes += 2;
                }
            }
        }
        return bytes;
    }
}
