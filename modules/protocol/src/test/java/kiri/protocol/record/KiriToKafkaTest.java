package kiri.protocol.record;

import static kiri.protocol.record.KafkaBatches.bytes;
import static kiri.protocol.record.KafkaBatches.kafkaBatch;
import static kiri.protocol.record.KafkaBatches.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import kiri.protocol.record.KafkaBatches.Memory;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Batches written by Kiri's builder are accepted by kafka-clients and equal Kafka's own bytes. */
class KiriToKafkaTest {
    private static final long T0 = 1_700_000_000_000L;

    /** One record to append through both builders. */
    record Rec(long timestamp, byte[] key, byte[] value, List<Header> headers) {
        org.apache.kafka.common.header.Header[] kafkaHeaders() {
            return headers.stream()
                    .map(h -> new RecordHeader(h.key(), h.value() == null ? null : bytes(h.value())))
                    .toArray(org.apache.kafka.common.header.Header[]::new);
        }
    }

    private static List<Rec> sampleRecords(int n, long seed) {
        Random random = new Random(seed);
        List<Rec> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] value = i % 11 == 3 ? null : new byte[random.nextInt(i % 13 == 0 ? 2000 : 100)];
            if (value != null) {
                random.nextBytes(value);
            }
            byte[] key = i % 4 == 0 ? null : utf8("key-" + i);
            List<Header> headers = switch (i % 3) {
                case 0 -> List.of();
                case 1 -> List.of(Header.of("h", utf8("v" + i)));
                default -> List.of(Header.of("a", null), Header.of("ü-é-😀", new byte[0]), Header.of("b", utf8("x")));
            };
            out.add(new Rec(T0 + random.nextInt(10_000) - 5_000, key, value, headers));
        }
        return out;
    }

    /** What Kafka's own builder writes for the same records and producer fields. */
    private static byte[] kafkaBytes(List<Rec> records, long baseOffset, long pid, short epoch, int seq,
                                     boolean transactional, int leaderEpoch) {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        MemoryRecordsBuilder builder = MemoryRecords.builder(buffer, org.apache.kafka.common.record.RecordBatch.MAGIC_VALUE_V2,
                Compression.NONE, org.apache.kafka.common.record.TimestampType.CREATE_TIME, baseOffset,
                RecordBatch.NO_TIMESTAMP, pid, epoch, seq, transactional, leaderEpoch);
        for (Rec r : records) {
            builder.append(r.timestamp(), r.key(), r.value(), r.kafkaHeaders());
        }
        return bytes(builder.build().buffer());
    }

    private static byte[] kiriBytes(List<Rec> records, MemorySegment target, long baseOffset, long pid, short epoch,
                                    int seq, boolean transactional, int leaderEpoch) {
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(target, 0)
                .baseOffset(baseOffset).producer(pid, epoch, seq).transactional(transactional)
                .partitionLeaderEpoch(leaderEpoch);
        for (Rec r : records) {
            builder.append(r.timestamp(), r.key(), r.value(), r.headers());
        }
        int size = builder.build();
        assertEquals(size, builder.sizeInBytes());
        return bytes(target.asSlice(0, size));
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void plainBatchIsByteForByteWhatKafkaWrites(Memory memory) {
        List<Rec> records = sampleRecords(300, 1);
        byte[] kiri = kiriBytes(records, memory.apply(new byte[1 << 20]), 0, -1, (short) -1, -1, false, -1);
        assertArrayEquals(kafkaBytes(records, 0, -1, (short) -1, -1, false, -1), kiri);
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void transactionalBatchIsByteForByteWhatKafkaWrites(Memory memory) {
        List<Rec> records = sampleRecords(17, 2);
        byte[] kiri = kiriBytes(records, memory.apply(new byte[1 << 20]), 5000, 98765L, (short) 3, 1000, true, 12);
        assertArrayEquals(kafkaBytes(records, 5000, 98765L, (short) 3, 1000, true, 12), kiri);
    }

    @Test
    void kafkaValidatesAndReadsEveryFieldKiriWrote() {
        List<Rec> records = sampleRecords(50, 3);
        MemorySegment target = Arena.ofAuto().allocate(1 << 20);
        byte[] kiri = kiriBytes(records, target, 42, 7L, (short) 1, 10, false, 4);

        MutableRecordBatch batch = kafkaBatch(kiri);
        batch.ensureValid();
        assertTrue(batch.isValid());
        assertEquals(42, batch.baseOffset());
        assertEquals(42 + records.size() - 1, batch.lastOffset());
        assertEquals(4, batch.partitionLeaderEpoch());
        assertEquals(7L, batch.producerId());
        assertEquals(1, batch.producerEpoch());
        assertEquals(10, batch.baseSequence());
        assertEquals(records.size(), batch.countOrNull());
        assertFalse(batch.isTransactional());
        assertFalse(batch.isControlBatch());
        assertEquals(org.apache.kafka.common.record.TimestampType.CREATE_TIME, batch.timestampType());
        assertEquals(records.stream().mapToLong(Rec::timestamp).max().orElseThrow(), batch.maxTimestamp());
        Iterator<org.apache.kafka.common.record.Record> it = batch.iterator();
        for (int i = 0; i < records.size(); i++) {
            Rec expected = records.get(i);
            org.apache.kafka.common.record.Record actual = it.next();
            assertEquals(42 + i, actual.offset());
            assertEquals(10 + i, actual.sequence());
            assertEquals(expected.timestamp(), actual.timestamp());
            assertArrayEquals(expected.key(), actual.hasKey() ? bytes(actual.key()) : null);
            assertArrayEquals(expected.value(), actual.hasValue() ? bytes(actual.value()) : null);
            assertEquals(expected.headers().size(), actual.headers().length);
            for (int h = 0; h < expected.headers().size(); h++) {
                assertEquals(expected.headers().get(h).key(), actual.headers()[h].key());
                assertArrayEquals(KafkaBatches.bytesOrNull(expected.headers().get(h).value()), actual.headers()[h].value());
            }
        }
        assertFalse(it.hasNext());
    }

    @Test
    void segmentAndByteArrayAppendsWriteTheSameBytes() {
        List<Rec> records = sampleRecords(40, 4);
        RecordBatchBuilder fromArrays = new RecordBatchBuilder().wrap(MemorySegment.ofArray(new byte[1 << 16]), 0);
        MemorySegment target = Arena.ofAuto().allocate(1 << 16);
        RecordBatchBuilder fromSegments = new RecordBatchBuilder().wrap(target, 0);
        for (Rec r : records) {
            assertTrue(fromArrays.tryAppend(r.timestamp(), r.key(), r.value(), r.headers()));
            assertTrue(fromSegments.tryAppend(r.timestamp(), segment(r.key()), segment(r.value()), r.headers()));
        }
        int size = fromArrays.build();
        assertEquals(size, fromSegments.build());
        assertArrayEquals(kafkaBytes(records, 0, -1, (short) -1, -1, false, -1), bytes(target.asSlice(0, size)));
    }

    private static MemorySegment segment(byte[] b) {
        if (b == null) {
            return null;
        }
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, b.length)).asSlice(0, b.length);
        MemorySegment.copy(MemorySegment.ofArray(b), 0, s, 0, b.length);
        return s;
    }

    @Test
    void tryAppendFillsExactlyTheCapacityAndKafkaReadsTheResult() {
        int capacity = 1000;
        byte[] value = new byte[37];
        MemorySegment target = MemorySegment.ofArray(new byte[capacity + 50]);
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(target, 10, capacity);
        int expectedSize = RecordBatch.HEADER_SIZE;
        int appended = 0;
        while (true) {
            int next = RecordBatchBuilder.recordSize(appended, appended, -1, value.length, List.of());
            assertEquals(next <= builder.remaining(), builder.hasRoomFor(T0 + appended, -1, value.length, List.of()));
            boolean added = builder.tryAppend(T0 + appended, (byte[]) null, value, List.of());
            assertEquals(next <= capacity - expectedSize, added);
            if (!added) {
                break;
            }
            expectedSize += next;
            appended++;
            assertEquals(expectedSize, builder.sizeInBytes());
        }
        assertEquals(appended, builder.recordCount());
        int before = builder.sizeInBytes();
        assertThrows(IllegalStateException.class, () -> builder.append(T0, (byte[]) null, value));
        assertEquals(before, builder.sizeInBytes(), "a record that does not fit leaves the batch unchanged");
        int size = builder.build();
        assertEquals(expectedSize, size);
        assertTrue(size <= capacity && size > capacity - 45);

        byte[] batch = bytes(target.asSlice(10, size));
        MutableRecordBatch kafka = kafkaBatch(batch);
        kafka.ensureValid();
        assertEquals(appended, kafka.countOrNull());
        assertEquals(T0 + appended - 1, kafka.maxTimestamp());
        assertEquals(BatchStatus.VALID, new RecordBatch().wrap(target, 10).validate());
    }

    @Test
    void recordSizeMatchesKafkaRecordSizes() {
        List<Rec> records = sampleRecords(100, 5);
        byte[] kafkaBatch = kafkaBytes(records, 0, -1, (short) -1, -1, false, -1);
        Iterator<org.apache.kafka.common.record.Record> it = kafkaBatch(kafkaBatch).iterator();
        for (int i = 0; i < records.size(); i++) {
            Rec r = records.get(i);
            int expected = it.next().sizeInBytes();
            int size = RecordBatchBuilder.recordSize(i, r.timestamp() - records.getFirst().timestamp(),
                    r.key() == null ? -1 : r.key().length, r.value() == null ? -1 : r.value().length, r.headers());
            assertEquals(expected, size, "record " + i);
            assertTrue(RecordBatchBuilder.maxRecordSize(r.key() == null ? -1 : r.key().length,
                    r.value() == null ? -1 : r.value().length, r.headers()) >= size);
        }
    }

    @Test
    void builderIsReusableAcrossBatches() {
        RecordBatchBuilder builder = new RecordBatchBuilder();
        MemorySegment target = MemorySegment.ofArray(new byte[4096]);
        builder.wrap(target, 0).producer(1, (short) 1, 0).transactional(true).append(T0, utf8("a"), utf8("1"));
        builder.build();
        int size = builder.wrap(target, 0).append(T0 + 1, utf8("b"), utf8("2")).build();
        MutableRecordBatch kafka = kafkaBatch(bytes(target.asSlice(0, size)));
        kafka.ensureValid();
        assertFalse(kafka.isTransactional(), "wrap resets the header fields");
        assertEquals(-1L, kafka.producerId());
        assertEquals(T0 + 1, kafka.maxTimestamp());
    }

    @Test
    void logAppendTimeFlagIsWritten() {
        MemorySegment target = MemorySegment.ofArray(new byte[256]);
        int size = new RecordBatchBuilder().wrap(target, 0).timestampType(TimestampType.LOG_APPEND_TIME)
                .append(T0, (byte[]) null, utf8("v")).build();
        MutableRecordBatch kafka = kafkaBatch(bytes(target.asSlice(0, size)));
        kafka.ensureValid();
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, kafka.timestampType());
    }

    @Test
    void misuseFailsClearly() {
        RecordBatchBuilder builder = new RecordBatchBuilder();
        assertThrows(IllegalStateException.class, () -> builder.append(T0, (byte[]) null, null), "not wrapped");
        builder.wrap(MemorySegment.ofArray(new byte[100]), 0);
        assertThrows(IllegalStateException.class, builder::build, "empty batch");
        builder.append(T0, (byte[]) null, null).build();
        assertThrows(IllegalStateException.class, () -> builder.append(T0, (byte[]) null, null), "already built");
        assertThrows(IllegalStateException.class, builder::build, "built twice");
        assertThrows(IllegalArgumentException.class, () -> builder.wrap(MemorySegment.ofArray(new byte[60]), 0));
        assertThrows(IllegalArgumentException.class, () -> builder.wrap(MemorySegment.ofArray(new byte[100]), 50, 61));
        assertThrows(NullPointerException.class, () -> Header.of(null, new byte[0]));
        assertNull(Header.of("k", null).value());
    }
}
