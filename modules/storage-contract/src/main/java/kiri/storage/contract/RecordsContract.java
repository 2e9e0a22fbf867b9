package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.ControlBatch;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** Produce and Fetch: contiguous offsets, the high watermark, byte limits, and what a producer may not write. */
public abstract class RecordsContract extends TopicsContract {
    protected final TopicPartition p0 = new TopicPartition("t", 0);
    protected final TopicPartition p1 = new TopicPartition("t", 1);

    @Test
    void offsetsAreAssignedContiguouslyPerPartition() {
        topic("t", 2);
        assertEquals(0, produce(p0, KafkaBatches.plain("a", 3, START_MS)));
        assertEquals(3, produce(p0, KafkaBatches.plain("b", 2, START_MS)));
        assertEquals(0, produce(p1, KafkaBatches.plain("c", 4, START_MS)), "partitions count apart");
        assertEquals(5, produce(p0, KafkaBatches.plain("d", 1, START_MS)));
        assertEquals(new PartitionOffsets(0, 6, 6), offsets(p0));
        assertEquals(new PartitionOffsets(0, 4, 4), offsets(p1));
        MemorySegment stamped = KafkaBatches.plain("e", 1, START_MS);
        produce(p0, stamped);
        RecordBatch parsed = KafkaBatches.parse(stamped);
        assertEquals(6, parsed.baseOffset(), "the base offset is written into the producer's batch");
        assertEquals(0, parsed.partitionLeaderEpoch(), "and the leader epoch stamped");
    }

    @Test
    void fetchReturnsTheProducedRecords() {
        requires(Capability.RECORDS);
        topic("t", 1);
        produce(p0, KafkaBatches.plain("a", 3, START_MS));
        produce(p0, KafkaBatches.plain("b", 2, START_MS));
        Fetched all = fetch(p0, 0, RU);
        assertEquals(List.of("a0", "a1", "a2", "b0", "b1"), all.values());
        assertEquals(LongStream.range(0, 5).boxed().toList(), all.dataOffsets());
        assertEquals(new PartitionOffsets(0, 5, 5), all.offsets());
        Fetched mid = fetch(p0, 4, RU);
        assertTrue(mid.dataOffsets().contains(4L) && !mid.dataOffsets().contains(2L), "from the batch holding offset 4: " + mid.dataOffsets());
        assertEquals(List.of(), fetch(p0, 5, RU).batches(), "the high watermark: nothing yet");
    }

    @Test
    void fetchOutsideTheLogIsOffsetOutOfRange() {
        topic("t", 1);
        produce(p0, KafkaBatches.plain(2));
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, 3, 1000, true, RU));
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, -1, 1000, true, RU));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.fetch(new TopicPartition("t", 1), 0, 1000, true, RU));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, new TopicPartition("t", 1), KafkaBatches.plain(1)));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.offsets(new TopicPartition("nope", 0)));
    }

    @Test
    void fetchHonoursMaxBytesInWholeBatches() {
        requires(Capability.RECORDS);
        topic("t", 1);
        for (int i = 0; i < 3; i++) produce(p0, KafkaBatches.big(1000, START_MS));
        assertEquals(List.of(), fetch(p0, 0, 500, false, RU).batches(), "first batch larger than maxBytes, no minOneBatch");
        assertEquals(List.of(0L), fetch(p0, 0, 500, true, RU).baseOffsets(), "minOneBatch: the first batch anyway");
        assertEquals(List.of(0L, 1L), fetch(p0, 0, 2500, false, RU).baseOffsets(), "whole batches only");
    }

    @Test
    void batchesOverMaxMessageBytesAreRefused() {
        topic("t", 1, Map.of("max.message.bytes", "1024"));
        assertFails(ErrorCode.MESSAGE_TOO_LARGE, storage.produce(null, p0, KafkaBatches.big(2000, START_MS)));
        assertEquals(0, offsets(p0).highWatermark(), "nothing stored");
        assertEquals(0, produce(p0, KafkaBatches.big(100, START_MS)));
    }

    @Test
    void producersMayNotWriteControlBatches() {
        topic("t", 1);
        MemorySegment marker = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(marker, 0, 0, 7L, (short) 0, true, 0, START_MS);
        assertFails(ErrorCode.INVALID_RECORD, storage.produce(null, p0, marker));
        assertEquals(0, offsets(p0).highWatermark());
    }

    @Test
    void logAppendTimeTopicsStampTheBrokerClock() {
        topic("t", 1, Map.of("message.timestamp.type", "LogAppendTime"));
        now.set(START_MS + 12_345);
        MemorySegment batch = KafkaBatches.plain("x", 2, 42L);
        produce(p0, batch);
        RecordBatch parsed = KafkaBatches.parse(batch);
        assertEquals(TimestampType.LOG_APPEND_TIME, parsed.timestampType());
        assertEquals(START_MS + 12_345, parsed.maxTimestamp());
    }

    @Test
    void partitionSizesCountStoredBytes() {
        requires(Capability.RECORDS);
        topic("t", 2);
        MemorySegment batch = KafkaBatches.big(1000, START_MS);
        long size = batch.byteSize();
        produce(p0, batch);
        Map<TopicPartition, Long> sizes = await(storage.partitionSizes());
        assertTrue(sizes.get(p0) >= size, "p0 holds the batch: " + sizes);
        assertTrue(sizes.getOrDefault(p1, 0L) < size, "p1 does not: " + sizes);
    }
}
