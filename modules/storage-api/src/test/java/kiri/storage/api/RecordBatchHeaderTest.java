package kiri.storage.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import kiri.testsupport.KafkaBatches;

class RecordBatchHeaderTest {

    @Test
    void readsTheFieldsKafkaWrote() {
        MemorySegment b = KafkaBatches.transactional(42L, (short) 7, 100, 3);
        assertEquals(42L, RecordBatchHeader.producerId(b));
        assertEquals(7, RecordBatchHeader.producerEpoch(b));
        assertEquals(100, RecordBatchHeader.baseSequence(b));
        assertEquals(102, RecordBatchHeader.lastSequence(b));
        assertEquals(2, RecordBatchHeader.lastOffsetDelta(b));
        assertEquals(3, RecordBatchHeader.recordCount(b));
        assertEquals(2, RecordBatchHeader.magic(b));
        assertEquals(b.byteSize(), RecordBatchHeader.sizeInBytes(b));
        assertEquals(1_002L, RecordBatchHeader.maxTimestamp(b));
        assertTrue(RecordBatchHeader.isTransactional(b));
        assertFalse(RecordBatchHeader.isControl(b));
        assertTrue(RecordBatchHeader.isCrcValid(b));
    }

    @Test
    void baseOffsetAndLeaderEpochArePatchedOutsideTheCrc() {
        MemorySegment b = KafkaBatches.plain(5);
        RecordBatchHeader.setBaseOffset(b, 123_456_789_012L);
        RecordBatchHeader.setPartitionLeaderEpoch(b, 3);
        RecordBatch kafka = KafkaBatches.parse(b); // ensureValid: CRC still matches
        assertEquals(123_456_789_012L, kafka.baseOffset());
        assertEquals(123_456_789_016L, kafka.lastOffset());
        assertEquals(3, kafka.partitionLeaderEpoch());
        assertEquals(123_456_789_017L, RecordBatchHeader.nextOffset(b, 123_456_789_012L));
    }

    @Test
    void logAppendTimeRewritesTheCrc() {
        MemorySegment b = KafkaBatches.plain(2);
        RecordBatchHeader.setLogAppendTime(b, 5_000_000L);
        RecordBatch kafka = KafkaBatches.parse(b);
        assertEquals(TimestampType.LOG_APPEND_TIME, kafka.timestampType());
        assertEquals(5_000_000L, kafka.maxTimestamp());
        assertTrue(RecordBatchHeader.hasLogAppendTime(b));
    }

    @Test
    void lastSequenceWrapsPastIntMax() {
        MemorySegment b = KafkaBatches.idempotent(1L, (short) 0, Integer.MAX_VALUE - 1, 4);
        assertEquals(1, RecordBatchHeader.lastSequence(b)); // MAX-1, MAX, 0, 1
    }
}
