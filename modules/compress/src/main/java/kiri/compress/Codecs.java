package kiri.compress;

import io.airlift.compress.v3.MalformedInputException;
import io.airlift.compress.v3.lz4.Lz4JavaCompressor;
import io.airlift.compress.v3.lz4.Lz4JavaDecompressor;
import io.airlift.compress.v3.snappy.SnappyJavaCompressor;
import io.airlift.compress.v3.snappy.SnappyJavaDecompressor;
import io.airlift.compress.v3.zstd.ZstdJavaCompressor;
import io.airlift.compress.v3.zstd.ZstdJavaInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.CompressionType;

/**
 * The records section of a v2 batch, compressed and decompressed byte for byte as Kafka's clients
 * frame it:
 * <ul>
 * <li>gzip: a gzip stream (java.util.zip);
 * <li>snappy: snappy-java's stream framing (8-byte magic, version and compatible version as int32,
 * then blocks of int32 compressed length + a raw snappy block). A stream without the magic is one
 * raw snappy block, as librdkafka writes it and snappy-java reads it;
 * <li>lz4: the LZ4 frame format (magic 0x184D2204, FLG, BD, header checksum, blocks with an int32 LE
 * size whose high bit marks a stored block, a zero end mark), independent blocks only, as Kafka's
 * KafkaLZ4BlockInputStream requires;
 * <li>zstd: zstd frames.
 * </ul>
 * Decompression never produces more than the caller's limit: a corrupt or hostile payload is a
 * {@link ProtocolException} naming the codec, not an OutOfMemoryError. Stateless and thread-safe.
 */
public final class Codecs {
    /** snappy-java's stream header: 0x82 "SNAPPY" 0, then version 1 and compatible version 1 (int32 BE). */
    private static final byte[] SNAPPY_MAGIC = {(byte) 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
    private static final int SNAPPY_HEADER_SIZE = 16;
    /** snappy-java's default block size. */
    private static final int SNAPPY_BLOCK_SIZE = 32 * 1024;

    private static final int LZ4_MAGIC = 0x184D2204;
    /** What Kafka writes: version 01, independent blocks, no checksums, no content size; 64 KiB blocks. */
    private static final int LZ4_FLG = 0x60;
    private static final int LZ4_BD = 0x40;
    private static final int LZ4_BLOCK_SIZE = 64 * 1024;

    private Codecs() {
    }

    /** Compresses {@code length} bytes of {@code in} from {@code offset} into a new array. */
    public static byte[] compress(CompressionType type, byte[] in, int offset, int length) {
        return switch (type) {
            case NONE -> Arrays.copyOfRange(in, offset, offset + length);
            case GZIP -> gzip(in, offset, length);
            case SNAPPY -> snappy(in, offset, length);
            case LZ4 -> lz4(in, offset, length);
            case ZSTD -> zstd(in, offset, length);
        };
    }

    /**
     * Decompresses {@code length} bytes of {@code in} from {@code offset}; the result is at most
     * {@code maxBytes} long.
     *
     * @throws ProtocolException if the data is corrupt or would decompress to more than {@code maxBytes}
     */
    public static Bytes decompress(CompressionType type, byte[] in, int offset, int length, int maxBytes) {
        try {
            return switch (type) {
                case NONE -> {
                    Output out = new Output(type, maxBytes);
                    out.write(in, offset, length);
                    yield out.bytes();
                }
                case GZIP -> drain(type, new GZIPInputStream(new ByteArrayInputStream(in, offset, length), 8192), maxBytes);
                case SNAPPY -> unsnappy(in, offset, length, maxBytes);
                case LZ4 -> unlz4(in, offset, length, maxBytes);
                case ZSTD -> drain(type, new ZstdJavaInputStream(new ByteArrayInputStream(in, offset, length)), maxBytes);
            };
        } catch (IOException | MalformedInputException | IndexOutOfBoundsException | IllegalArgumentException
                | IllegalStateException | UnsupportedOperationException e) {
            throw new ProtocolException("corrupt " + name(type) + " data: " + e.getMessage(), e);
        }
    }

    /** A byte array's first {@code length} bytes. */
    public record Bytes(byte[] array, int length) {
    }

    private static String name(CompressionType type) {
        return type.name().toLowerCase(java.util.Locale.ROOT);
    }

    // ---- gzip ----

    private static byte[] gzip(byte[] in, int offset, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, length / 2));
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 8192)) {
            gz.write(in, offset, length);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e); // in memory: cannot happen
        }
        return out.toByteArray();
    }

    /** Reads {@code in} to its end into at most {@code maxBytes}. */
    private static Bytes drain(CompressionType type, InputStream in, int maxBytes) throws IOException {
        Output out = new Output(type, maxBytes);
        byte[] chunk = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(chunk)) > 0) {
                out.write(chunk, 0, n);
            }
        }
        return out.bytes();
    }

    // ---- snappy (snappy-java stream framing) ----

    private static byte[] snappy(byte[] in, int offset, int length) {
        SnappyJavaCompressor compressor = new SnappyJavaCompressor();
        int blocks = Math.max(1, (length + SNAPPY_BLOCK_SIZE - 1) / SNAPPY_BLOCK_SIZE);
        byte[] out = new byte[SNAPPY_HEADER_SIZE + blocks * (4 + compressor.maxCompressedLength(SNAPPY_BLOCK_SIZE))];
        System.arraycopy(SNAPPY_MAGIC, 0, out, 0, SNAPPY_MAGIC.length);
        putIntBE(out, 8, 1);
        putIntBE(out, 12, 1);
        int p = SNAPPY_HEADER_SIZE;
        for (int done = 0; done < length; done += SNAPPY_BLOCK_SIZE) {
            int n = Math.min(SNAPPY_BLOCK_SIZE, length - done);
            int size = compressor.compress(in, offset + done, n, out, p + 4, out.length - p - 4);
            putIntBE(out, p, size);
            p += 4 + size;
        }
        return Arrays.copyOf(out, p);
    }

    private static Bytes unsnappy(byte[] in, int offset, int length, int maxBytes) {
        SnappyJavaDecompressor decompressor = new SnappyJavaDecompressor();
        Output out = new Output(CompressionType.SNAPPY, maxBytes);
        int end = offset + length;
        if (!startsWith(in, offset, end, SNAPPY_MAGIC)) {
            snappyBlock(decompressor, in, offset, length, out); // raw snappy (librdkafka)
            return out.bytes();
        }
        int p = offset;
        while (p < end) {
            if (startsWith(in, p, end, SNAPPY_MAGIC)) { // snappy-java also reads concatenated streams
                if (end - p < SNAPPY_HEADER_SIZE) {
                    throw new ProtocolException("corrupt snappy data: truncated stream header");
                }
                p += SNAPPY_HEADER_SIZE;
                continue;
            }
            if (end - p < 4) {
                throw new ProtocolException("corrupt snappy data: truncated block length at " + (p - offset));
            }
            int size = getIntBE(in, p);
            if (size < 0 || size > end - p - 4) {
                throw new ProtocolException("corrupt snappy data: block of " + size + " bytes at " + (p - offset)
                        + " but " + (end - p - 4) + " remain");
            }
            snappyBlock(decompressor, in, p + 4, size, out);
            p += 4 + size;
        }
        return out.bytes();
    }

    private static void snappyBlock(SnappyJavaDecompressor decompressor, byte[] in, int offset, int length, Output out) {
        int size = snappyLength(in, offset, offset + length);
        out.ensure(size);
        int n = decompressor.decompress(in, offset, length, out.array, out.length, size);
        if (n != size) {
            throw new ProtocolException("corrupt snappy data: block declares " + size + " bytes but holds " + n);
        }
        out.length += n;
    }

    /** A snappy block's uncompressed length: its leading unsigned varint (at most 32 bits). */
    private static int snappyLength(byte[] in, int p, int end) {
        long value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (p >= end) {
                break;
            }
            int b = in[p++] & 0xff;
            value |= (long) (b & 0x7f) << shift;
            if (b < 0x80) {
                if (value > Integer.MAX_VALUE) {
                    break;
                }
                return (int) value;
            }
        }
        throw new ProtocolException("corrupt snappy data: bad uncompressed length");
    }

    // ---- lz4 (frame format) ----

    private static byte[] lz4(byte[] in, int offset, int length) {
        Lz4JavaCompressor compressor = new Lz4JavaCompressor();
        int blocks = Math.max(1, (length + LZ4_BLOCK_SIZE - 1) / LZ4_BLOCK_SIZE);
        byte[] out = new byte[7 + 4 + blocks * (4 + compressor.maxCompressedLength(LZ4_BLOCK_SIZE))];
        putIntLE(out, 0, LZ4_MAGIC);
        out[4] = (byte) LZ4_FLG;
        out[5] = (byte) LZ4_BD;
        out[6] = (byte) ((XxHash32.hash(out, 4, 2, 0) >> 8) & 0xff);
        int p = 7;
        for (int done = 0; done < length; done += LZ4_BLOCK_SIZE) {
            int n = Math.min(LZ4_BLOCK_SIZE, length - done);
            int size = compressor.compress(in, offset + done, n, out, p + 4, out.length - p - 4);
            if (size >= n) { // incompressible: store the block (high bit of the size)
                System.arraycopy(in, offset + done, out, p + 4, n);
                putIntLE(out, p, n | 0x80000000);
                p += 4 + n;
            } else {
                putIntLE(out, p, size);
                p += 4 + size;
            }
        }
        putIntLE(out, p, 0); // end mark
        return Arrays.copyOf(out, p + 4);
    }

    private static Bytes unlz4(byte[] in, int offset, int length, int maxBytes) {
        int end = offset + length;
        if (length < 7 || getIntLE(in, offset) != LZ4_MAGIC) {
            throw new ProtocolException("corrupt lz4 data: no LZ4 frame magic");
        }
        int flg = in[offset + 4] & 0xff;
        int bd = in[offset + 5] & 0xff;
        if ((flg >>> 6) != 1 || (flg & 0x02) != 0 || (bd & 0x8f) != 0) {
            throw new ProtocolException("corrupt lz4 data: unsupported frame descriptor FLG 0x"
                    + Integer.toHexString(flg) + " BD 0x" + Integer.toHexString(bd));
        }
        if ((flg & 0x20) == 0) {
            throw new ProtocolException("lz4 frames with dependent blocks are not supported (nor by Kafka)");
        }
        int blockMaxId = (bd >>> 4) & 0x07;
        if (blockMaxId < 4) {
            throw new ProtocolException("corrupt lz4 data: block maximum size id " + blockMaxId);
        }
        int blockMax = 1 << (2 * blockMaxId + 8);
        boolean blockChecksum = (flg & 0x10) != 0;
        boolean contentChecksum = (flg & 0x04) != 0;
        int descriptor = 2 + ((flg & 0x08) != 0 ? 8 : 0) + ((flg & 0x01) != 0 ? 4 : 0);
        int p = offset + 4 + descriptor;
        if (p >= end) {
            throw new ProtocolException("corrupt lz4 data: truncated frame descriptor");
        }
        int checksum = (XxHash32.hash(in, offset + 4, descriptor, 0) >> 8) & 0xff;
        if ((in[p] & 0xff) != checksum) {
            throw new ProtocolException("corrupt lz4 data: frame descriptor checksum mismatch");
        }
        p++;
        Lz4JavaDecompressor decompressor = new Lz4JavaDecompressor();
        Output out = new Output(CompressionType.LZ4, maxBytes);
        byte[] scratch = null;
        while (true) {
            if (end - p < 4) {
                throw new ProtocolException("corrupt lz4 data: truncated block size at " + (p - offset));
            }
            int word = getIntLE(in, p);
            p += 4;
            if (word == 0) {
                break;
            }
            int size = word & 0x7fffffff;
            boolean stored = word < 0;
            if (size > blockMax || size > end - p) {
                throw new ProtocolException("corrupt lz4 data: block of " + size + " bytes at " + (p - 4 - offset)
                        + " (maximum " + blockMax + ", " + (end - p) + " remain)");
            }
            if (stored) {
                out.write(in, p, size);
            } else {
                if (scratch == null) {
                    scratch = new byte[blockMax]; // a block never decodes to more; bounded by the descriptor
                }
                out.write(scratch, 0, decompressor.decompress(in, p, size, scratch, 0, blockMax));
            }
            p += size + (blockChecksum ? 4 : 0);
        }
        if (contentChecksum) {
            p += 4;
        }
        if (p > end) {
            throw new ProtocolException("corrupt lz4 data: truncated after the end mark");
        }
        return out.bytes();
    }

    // ---- zstd ----

    private static byte[] zstd(byte[] in, int offset, int length) {
        ZstdJavaCompressor compressor = new ZstdJavaCompressor();
        byte[] out = new byte[compressor.maxCompressedLength(length)];
        int n = compressor.compress(in, offset, length, out, 0, out.length);
        return Arrays.copyOf(out, n);
    }

    // ---- helpers ----

    /** A growing output buffer that refuses to grow past {@code max}. */
    private static final class Output {
        final CompressionType type;
        final int max;
        byte[] array = new byte[1024];
        int length;

        Output(CompressionType type, int max) {
            this.type = type;
            this.max = max;
        }

        /** Makes room for {@code n} more bytes. */
        void ensure(int n) {
            if (n > max - length) {
                throw new ProtocolException(name(type) + " data decompresses to more than " + max + " bytes");
            }
            int needed = length + n;
            if (needed > array.length) {
                array = Arrays.copyOf(array, (int) Math.min(max, Math.max(needed, 2L * array.length)));
            }
        }

        void write(byte[] b, int offset, int n) {
            ensure(n);
            System.arraycopy(b, offset, array, length, n);
            length += n;
        }

        Bytes bytes() {
            return new Bytes(array, length);
        }
    }

    private static boolean startsWith(byte[] in, int p, int end, byte[] prefix) {
        return end - p >= prefix.length && Arrays.equals(in, p, p + prefix.length, prefix, 0, prefix.length);
    }

    private static void putIntBE(byte[] b, int p, int v) {
        b[p] = (byte) (v >>> 24);
        b[p + 1] = (byte) (v >>> 16);
        b[p + 2] = (byte) (v >>> 8);
        b[p + 3] = (byte) v;
    }

    private static int getIntBE(byte[] b, int p) {
        return (b[p] & 0xff) << 24 | (b[p + 1] & 0xff) << 16 | (b[p + 2] & 0xff) << 8 | (b[p + 3] & 0xff);
    }

    private static void putIntLE(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
    }

    private static int getIntLE(byte[] b, int p) {
        return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
    }
}
