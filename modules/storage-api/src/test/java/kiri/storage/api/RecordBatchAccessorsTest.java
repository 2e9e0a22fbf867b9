package kiri.storage.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import kiri.protocol.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;
import kiri.testsupport.KafkaBatches;

/**
 * The static header accessors of {@link RecordBatch}, as engines use them; tested here because the
 * batches are built with {@link KafkaBatches} of test-support (which protocol's tests cannot use).
 */
class RecordBatchAccessorsTest {

    @Test
    void readsTheFieldsKafkaWrote() {
        MemorySegment b = KafkaBatches.transactional(42L, (short) 7, 100, 3);
        assertEquals(42L, RecordBatch.producerId(b));
        assertEquals(7, RecordBatch.producerEpoch(b));
        assertEquals(100, RecordBatch.baseSequence(b));
        assertEquals(102, RecordBatch.lastSequence(b));
        assertEquals(2, RecordBatch.lastOffsetDelta(b));
        assertEquals(3, RecordBatch.recordCount(b));
        assertEquals(2, RecordBatch.magic(b));
        assertEquals(b.byteSize(), RecordBatch.sizeInBytes(b));
        assertEquals(1_002L, RecordBatch.maxTimestamp(b));
        assertTrue(RecordBatch.isTransactional(b));
        assertFalse(RecordBatch.isControl(b));
        assertTrue(RecordBatch.isCrcValid(b));
    }

    @Test
    void baseOffsetAndLeaderEpochArePatchedOutsideTheCrc() {
        MemorySegment b = KafkaBatches.plain(5);
        RecordBatch.setBaseOffset(b, 123_456_789_012L);
        RecordBatch.setPartitionLeaderEpoch(b, 3);
        var kafka = KafkaBatches.parse(b); // ensureValid: CRC still matches
        assertEquals(123_456_789_012L, kafka.baseOffset());
        assertEquals(123_456_789_016L, kafka.lastOffset());
        assertEquals(3, kafka.partitionLeaderEpoch());
        assertEquals(123_456_789_017L, RecordBatch.nextOffset(b, 123_456_789_012L));
    }

    @Test
    void logAppendTimeRewritesTheCrc() {
        MemorySegment b = KafkaBatches.plain(2);
        RecordBatch.setLogAppendTime(b, 5_000_000L);
        var kafka = KafkaBatches.parse(b);
        assertEquals(TimestampType.LOG_APPEND_TIME, kafka.timestampType());
        assertEquals(5_000_000L, kafka.maxTimestamp());
        assertTrue(RecordBatch.hasLogAppendTime(b));
    }

    @Test
    void lastSequenceWrapsPastIntMax() {
        MemorySegment b = KafkaBatches.idempotent(1L, (short) 0, Integer.MAX_VALUE - 1, 4);
        assertEquals(1, RecordBatch.lastSequence(b)); // MAX-1, MAX, 0, 1
    }
}
