package kiri.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordBatchBuilder;
import kiri.protocol.record.RecordCursor;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kiri's codecs against kafka-clients' (java.util.zip, snappy-java, lz4-java, zstd-jni): batches
 * compressed by either side read back record for record on the other; corrupt and oversized data
 * fail with a clear ProtocolException.
 */
class BatchCompressionTest {
    private static final long T0 = 1_700_000_000_000L;

    private static List<SimpleRecord> records(int n, long seed) {
        Random random = new Random(seed);
        List<SimpleRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] value = new byte[random.nextInt(400)];
            for (int j = 0; j < value.length; j++) {
                value[j] = (byte) (i % 3 == 0 ? random.nextInt() : 'a' + j % 7); // some incompressible
            }
            byte[] key = i % 5 == 0 ? null : ("key-" + i).getBytes(StandardCharsets.UTF_8);
            Header[] headers = i % 4 == 0 ? new Header[0]
                    : new Header[] {new RecordHeader("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8)),
                            new RecordHeader("null", (byte[]) null)};
            out.add(new SimpleRecord(T0 + i, key, i % 11 == 0 ? null : value, headers));
        }
        return out;
    }

    private static Compression kafka(CompressionType type) {
        return switch (type) {
            case NONE -> Compression.NONE;
            case GZIP -> Compression.gzip().build();
            case SNAPPY -> Compression.snappy().build();
            case LZ4 -> Compression.lz4().build();
            case ZSTD -> Compression.zstd().build();
        };
    }

    private static MemorySegment kafkaBatch(CompressionType type, List<SimpleRecord> records) {
        ByteBuffer buffer = MemoryRecords.withRecords(kafka(type), records.toArray(SimpleRecord[]::new)).buffer();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return MemorySegment.ofArray(bytes);
    }

    private static void assertSame(List<SimpleRecord> want, MemorySegment uncompressed) {
        RecordBatch batch = new RecordBatch().wrap(uncompressed, 0);
        assertFalse(batch.isCompressed());
        RecordCursor cursor = new RecordCursor().wrap(batch);
        int i = 0;
        while (cursor.next()) {
            SimpleRecord r = want.get(i);
            assertEquals(i, cursor.offset());
            assertEquals(r.timestamp(), cursor.timestamp());
            assertArrayEquals(bytes(r.key()), cursor.hasKey() ? cursor.key().toArray(ValueLayout.JAVA_BYTE) : null);
            assertArrayEquals(bytes(r.value()), cursor.hasValue() ? cursor.value().toArray(ValueLayout.JAVA_BYTE) : null);
            int h = 0;
            while (cursor.nextHeader()) {
                assertEquals(r.headers()[h].key(), cursor.headerKeyAsString());
                byte[] hv = cursor.headerValue() == null ? null : cursor.headerValue().toArray(ValueLayout.JAVA_BYTE);
                assertArrayEquals(r.headers()[h].value(), hv);
                h++;
            }
            assertEquals(r.headers().length, h);
            i++;
        }
        assertEquals(want.size(), i);
    }

    private static byte[] bytes(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void kafkaCompressedBatchesDecompress(CompressionType type) {
        List<SimpleRecord> want = records(2000, type.id());
        MemorySegment batch = kafkaBatch(type, want);
        RecordBatch b = new RecordBatch().wrap(batch, 0);
        assertEquals(type, b.compressionType());
        assertTrue(b.isCrcValid());
        MemorySegment plain = type == CompressionType.NONE ? batch
                : BatchCompression.decompress(b, BatchCompression.DEFAULT_MAX_RECORDS_BYTES);
        assertSame(want, plain);
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void kiriCompressedBatchesReadInKafka(CompressionType type) {
        List<SimpleRecord> want = records(2000, 100 + type.id());
        MemorySegment built = MemorySegment.ofArray(new byte[4 << 20]);
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(built, 0);
        for (SimpleRecord r : want) {
            List<kiri.protocol.record.Header> headers = new ArrayList<>();
            for (Header h : r.headers()) {
                headers.add(new kiri.protocol.record.Header(h.key(), h.value() == null ? null : MemorySegment.ofArray(h.value())));
            }
            builder.append(r.timestamp(), bytes(r.key()), bytes(r.value()), headers);
        }
        int size = builder.build();
        MemorySegment compressed = BatchCompression.compress(built.asSlice(0, size), type);
        RecordBatch b = new RecordBatch().wrap(compressed, 0);
        assertEquals(type, b.compressionType());
        assertTrue(b.isCrcValid(), "CRC rewritten");
        if (type != CompressionType.NONE) {
            assertTrue(compressed.byteSize() < size, "smaller than " + size + ": " + compressed.byteSize());
        }

        MemoryRecords kafka = MemoryRecords.readableRecords(ByteBuffer.wrap(compressed.toArray(ValueLayout.JAVA_BYTE)));
        var batches = kafka.batches().iterator();
        var kb = batches.next();
        assertFalse(batches.hasNext());
        kb.ensureValid();
        assertEquals(type.id(), kb.compressionType().id);
        Iterator<Record> it = kb.iterator();
        for (SimpleRecord r : want) {
            Record got = it.next();
            assertEquals(r.timestamp(), got.timestamp());
            assertEquals(r.key(), got.key());
            assertEquals(r.value(), got.value());
            assertArrayEquals(r.headers(), got.headers());
        }
        assertFalse(it.hasNext());
        // and back through Kiri's decompression
        if (type != CompressionType.NONE) {
            assertSame(want, BatchCompression.decompress(b, BatchCompression.DEFAULT_MAX_RECORDS_BYTES));
        }
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void decompressionIsBounded(CompressionType type) {
        // 200 records of 64 KiB zeros: ~13 MB that compresses to very little
        List<SimpleRecord> bomb = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            bomb.add(new SimpleRecord(T0, null, new byte[64 << 10]));
        }
        MemorySegment batch = kafkaBatch(type, bomb);
        RecordBatch b = new RecordBatch().wrap(batch, 0);
        ProtocolException e = assertThrows(ProtocolException.class, () -> BatchCompression.decompress(b, 1 << 20));
        assertTrue(e.getMessage().contains("decompresses to more than 1048576 bytes"), e.getMessage());
        RecordCursor cursor = new RecordCursor().wrap(new RecordBatch().wrap(BatchCompression.decompress(b, 16 << 20), 0));
        int n = 0;
        while (cursor.next()) {
            assertEquals(64 << 10, cursor.valueLength());
            n++;
        }
        assertEquals(200, n, "a larger limit reads it all");
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void corruptDataIsAClearError(CompressionType type) {
        List<SimpleRecord> want = records(300, 7);
        Random random = new Random(type.id());
        for (int round = 0; round < 200; round++) {
            byte[] bytes = kafkaBatch(type, want).toArray(ValueLayout.JAVA_BYTE);
            int cut = RecordBatch.HEADER_SIZE + random.nextInt(bytes.length - RecordBatch.HEADER_SIZE);
            if (round % 2 == 0) {
                bytes[cut] ^= (byte) (1 + random.nextInt(255)); // flip bits
            } else { // truncate the records section, keeping the header consistent
                bytes = java.util.Arrays.copyOf(bytes, cut);
                MemorySegment.ofArray(bytes).set(kiri.protocol.BigEndian.INT,
                        RecordBatch.BATCH_LENGTH_OFFSET, bytes.length - RecordBatch.LOG_OVERHEAD);
            }
            RecordBatch b = new RecordBatch().wrap(MemorySegment.ofArray(bytes), 0);
            try {
                MemorySegment plain = BatchCompression.decompress(b, 8 << 20);
                RecordCursor cursor = new RecordCursor().wrap(new RecordBatch().wrap(plain, 0));
                while (cursor.next()) {
                    // a flipped literal byte can decompress "fine": then the records parse or fail cleanly
                }
            } catch (ProtocolException expected) {
                assertFalse(expected.getMessage().isBlank());
            }
        }
    }

    @Test
    void unknownCodecNamesAreRejected() {
        assertEquals(CompressionType.ZSTD, BatchCompression.forName("ZSTD"));
        assertEquals(CompressionType.NONE, BatchCompression.forName("none"));
        assertThrows(IllegalArgumentException.class, () -> BatchCompression.forName("brotli"));
    }
}
