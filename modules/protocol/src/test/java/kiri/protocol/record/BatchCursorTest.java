package kiri.protocol.record;

import static kiri.protocol.record.KafkaBatches.bytes;
import static kiri.protocol.record.KafkaBatches.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import kiri.protocol.BigEndian;
import kiri.protocol.record.KafkaBatches.Memory;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Walking the batches of a records region. */
class BatchCursorTest {
    private static final long T0 = 1_700_000_000_000L;

    /** Three Kafka batches back to back, with base offsets 0, 10 and 20 and 1, 2 and 3 records. */
    private static byte[] threeBatches() {
        byte[] a = bytes(MemoryRecords.withRecords(0L, Compression.NONE, new SimpleRecord(T0, utf8("a"), utf8("1"))).buffer());
        byte[] b = bytes(MemoryRecords.withRecords(10L, Compression.NONE, new SimpleRecord(T0, utf8("b"), utf8("1")),
                new SimpleRecord(T0, utf8("b"), utf8("2"))).buffer());
        byte[] c = bytes(MemoryRecords.withRecords(20L, Compression.gzip().build(), new SimpleRecord(T0, utf8("c"), utf8("1")),
                new SimpleRecord(T0, utf8("c"), utf8("2")), new SimpleRecord(T0, utf8("c"), utf8("3"))).buffer());
        byte[] all = Arrays.copyOf(a, a.length + b.length + c.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        System.arraycopy(c, 0, all, a.length + b.length, c.length);
        return all;
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void walksEveryBatchLikeKafka(Memory memory) {
        byte[] region = threeBatches();
        List<org.apache.kafka.common.record.RecordBatch> kafka = KafkaBatches.kafkaBatches(region);
        assertEquals(3, kafka.size());

        BatchCursor cursor = new BatchCursor().wrap(memory.apply(region));
        long position = 0;
        for (org.apache.kafka.common.record.RecordBatch expected : kafka) {
            assertTrue(cursor.next());
            assertEquals(position, cursor.position());
            RecordBatch batch = cursor.batch();
            assertEquals(BatchStatus.VALID, batch.validate());
            KafkaBatches.assertSameHeader(expected, batch);
            position += batch.sizeInBytes();
            assertEquals(region.length - position, cursor.remaining());
        }
        assertFalse(cursor.next());
        assertFalse(cursor.next());
        assertEquals(3, BatchCursor.count(memory.apply(region)));
    }

    @Test
    void forEachVisitsInOrderAndStopsEarly() {
        MemorySegment region = MemorySegment.ofArray(threeBatches());
        RecordBatch flyweight = new RecordBatch();
        List<Long> baseOffsets = new ArrayList<>();
        assertEquals(3, BatchCursor.forEach(region, flyweight, b -> baseOffsets.add(b.baseOffset())));
        assertEquals(List.of(0L, 10L, 20L), baseOffsets);

        baseOffsets.clear();
        assertEquals(2, BatchCursor.forEach(region, flyweight, b -> {
            baseOffsets.add(b.baseOffset());
            return b.baseOffset() < 10;
        }));
        assertEquals(List.of(0L, 10L), baseOffsets);
    }

    @Test
    void visitorMayAssignOffsetsInPlace() {
        byte[] region = threeBatches();
        long[] next = {1000};
        BatchCursor.forEach(MemorySegment.ofArray(region), new RecordBatch(), b -> {
            b.baseOffset(next[0]);
            next[0] += b.recordCount();
            return true;
        });
        List<Long> kafkaBaseOffsets = KafkaBatches.kafkaBatches(region).stream()
                .peek(org.apache.kafka.common.record.RecordBatch::ensureValid)
                .map(org.apache.kafka.common.record.RecordBatch::baseOffset).toList();
        assertEquals(List.of(1000L, 1001L, 1003L), kafkaBaseOffsets);
    }

    @Test
    void emptyRegionHasNoBatches() {
        assertFalse(new BatchCursor().wrap(MemorySegment.ofArray(new byte[0])).next());
        assertFalse(new BatchCursor().next(), "an unwrapped cursor is empty");
        assertEquals(0, BatchCursor.count(MemorySegment.ofArray(new byte[0])));
    }

    @Test
    void partialTrailingBatchIsHandedOutOnceAndReportedTruncated() {
        byte[] full = threeBatches();
        byte[] region = Arrays.copyOf(full, full.length - 5);
        BatchCursor cursor = new BatchCursor().wrap(MemorySegment.ofArray(region));
        List<BatchStatus> statuses = new ArrayList<>();
        while (cursor.next()) {
            statuses.add(cursor.batch().validate());
        }
        assertEquals(List.of(BatchStatus.VALID, BatchStatus.VALID, BatchStatus.TRUNCATED), statuses);
        assertEquals(0, cursor.remaining());
    }

    @Test
    void untrustworthyLengthSwallowsTheRest() {
        byte[] region = threeBatches();
        // second batch claims a length below the minimum: there is no way to find the third
        MemorySegment.ofArray(region).set(BigEndian.INT,
                bytes(MemoryRecords.withRecords(0L, Compression.NONE, new SimpleRecord(T0, utf8("a"), utf8("1"))).buffer()).length
                        + RecordBatch.BATCH_LENGTH_OFFSET, 3);
        BatchCursor cursor = new BatchCursor().wrap(MemorySegment.ofArray(region));
        assertTrue(cursor.next());
        assertEquals(BatchStatus.VALID, cursor.batch().validate());
        assertTrue(cursor.next());
        assertEquals(BatchStatus.LENGTH_TOO_SMALL, cursor.batch().validate());
        assertEquals(0, cursor.remaining());
        assertFalse(cursor.next());

        byte[] tiny = {0, 0, 0, 0, 0};
        BatchCursor t = new BatchCursor().wrap(MemorySegment.ofArray(tiny));
        assertTrue(t.next());
        assertEquals(BatchStatus.TRUNCATED, t.batch().validate());
        assertFalse(t.next());
    }
}
