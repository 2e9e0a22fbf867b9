package kiri.storage.nullstore;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import kiri.protocol.ErrorCode;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.Stages;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import kiri.testsupport.KafkaBatches;

class NullRecordsTest {
    private final Storage storage = new NullStorage(new StorageContext(1, "c", "localhost", 9092,
            InstantSource.fixed(Instant.ofEpochMilli(1_234_567L))));
    private final TopicPartition p0 = new TopicPartition("t", 0);
    private final TopicPartition p1 = new TopicPartition("t", 1);

    NullRecordsTest() {
        await(storage.createTopic(new NewTopic("t", 2), false));
    }

    @AfterEach
    void close() {
        storage.close();
    }

    /** Produces and returns the base offset the engine wrote into the batch, checked with Kafka's parser. */
    private long produce(TopicPartition tp, MemorySegment batch) {
        await(storage.produce(null, tp, batch));
        RecordBatch kafka = KafkaBatches.parse(batch); // still a valid batch: the CRC does not cover the offset
        assertEquals(0, kafka.partitionLeaderEpoch());
        return kafka.baseOffset();
    }

    @Test
    void offsetsIncreasePerPartitionAndAreWrittenIntoTheBatch() {
        MemorySegment first = KafkaBatches.plain(3);
        kiri.protocol.record.RecordBatch.setBaseOffset(first, 999L); // whatever the client sent is overwritten
        assertEquals(0L, produce(p0, first));
        assertEquals(3L, produce(p0, KafkaBatches.plain(2)));
        assertEquals(0L, produce(p1, KafkaBatches.plain(4)), "partitions count independently");
        assertEquals(5L, produce(p0, KafkaBatches.idempotent(7L, (short) 0, 0, 1)));
        assertEquals(new PartitionOffsets(0L, 6L, 6L), await(storage.offsets(p0)));
        assertEquals(4L, await(storage.offsets(p1)).highWatermark());
    }

    @Test
    void inMemoryProduceReturnsTheSharedCompletedStage() {
        assertSame(Stages.DONE, storage.produce(null, p0, KafkaBatches.plain(1)));
    }

    @Test
    void produceErrors() {
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, new TopicPartition("t", 2), KafkaBatches.plain(1)));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, new TopicPartition("t", -1), KafkaBatches.plain(1)));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, new TopicPartition("u", 0), KafkaBatches.plain(1)));
        assertFails(ErrorCode.CORRUPT_MESSAGE, storage.produce(null, p0, MemorySegment.ofArray(new byte[20])));
        assertFails(ErrorCode.INVALID_RECORD, storage.produce(null, p0, KafkaBatches.transactional(1L, (short) 0, 0, 1)));
        assertEquals(0L, await(storage.offsets(p0)).highWatermark(), "failed produces assign nothing");
    }

    @Test
    void maxMessageBytesIsEnforced() {
        await(storage.createTopic(new NewTopic("small", 1, (short) 1, Map.of("max.message.bytes", "100")), false));
        TopicPartition small = new TopicPartition("small", 0);
        MemorySegment fits = KafkaBatches.plain(1);
        assertTrue(fits.byteSize() <= 100, "test batch " + fits.byteSize());
        produce(small, fits);
        assertFails(ErrorCode.MESSAGE_TOO_LARGE, storage.produce(null, small, KafkaBatches.plain(20)));
    }

    @Test
    void logAppendTimeTopicsAreStampedWithTheEngineClock() {
        await(storage.createTopic(new NewTopic("lat", 1, (short) 1, Map.of("message.timestamp.type", "LogAppendTime")), false));
        MemorySegment batch = KafkaBatches.plain(2);
        produce(new TopicPartition("lat", 0), batch);
        RecordBatch kafka = KafkaBatches.parse(batch);
        assertEquals(TimestampType.LOG_APPEND_TIME, kafka.timestampType());
        assertEquals(1_234_567L, kafka.maxTimestamp());
    }

    @Test
    void concurrentProducersGetUniqueContiguousOffsets() throws Exception {
        int threads = 4;
        int batchesPerThread = 2_000;
        int[] sizes = {1, 3, 7};
        List<long[]> ranges = new ArrayList<>(); // [base, count] per batch, per thread
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<List<long[]>>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int seed = t;
            CompletableFuture<List<long[]>> f = new CompletableFuture<>();
            results.add(f);
            Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    List<long[]> mine = new ArrayList<>();
                    for (int i = 0; i < batchesPerThread; i++) {
                        int count = sizes[(i + seed) % sizes.length];
                        MemorySegment batch = KafkaBatches.plain(count);
                        storage.produce(null, p0, batch).toCompletableFuture().join();
                        mine.add(new long[] {kiri.protocol.record.RecordBatch.baseOffset(batch), count});
                    }
                    f.complete(mine);
                } catch (Throwable e) {
                    f.completeExceptionally(e);
                }
            });
        }
        start.countDown();
        long total = 0;
        for (CompletableFuture<List<long[]>> f : results) {
            List<long[]> mine = f.get(60, TimeUnit.SECONDS);
            ranges.addAll(mine);
            for (long[] r : mine) total += r[1];
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        long expectedNext = 0;
        for (long[] r : ranges) {
            assertEquals(expectedNext, r[0], "ranges must tile [0, total) with no gap or overlap");
            expectedNext += r[1];
        }
        assertEquals(total, expectedNext);
        assertEquals(total, await(storage.offsets(p0)).highWatermark());
        assertEquals(threads * batchesPerThread, ranges.size());
    }

    @Test
    void fetchReturnsNoBatchesWithTheHighWatermark() {
        produce(p0, KafkaBatches.plain(10));
        try (FetchResult r = await(storage.fetch(p0, 0L, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED))) {
            assertTrue(r.isEmpty());
            assertEquals(List.of(), r.batches());
            assertEquals(10L, r.highWatermark());
            assertEquals(10L, r.lastStableOffset());
            assertEquals(0L, r.logStartOffset());
        }
        await(storage.fetch(p0, 10L, 1 << 20, true, IsolationLevel.READ_COMMITTED)).close();
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, 11L, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.fetch(new TopicPartition("t", 5), 0L, 1, true, IsolationLevel.READ_UNCOMMITTED));
    }

    @Test
    void listOffsetsAndDeleteRecords() {
        produce(p0, KafkaBatches.plain(10));
        assertEquals(new OffsetAndTimestamp(0L, -1L, 0), await(storage.listOffset(p0, OffsetSpec.EARLIEST, IsolationLevel.READ_UNCOMMITTED)));
        assertEquals(new OffsetAndTimestamp(10L, -1L, 0), await(storage.listOffset(p0, OffsetSpec.LATEST, IsolationLevel.READ_UNCOMMITTED)));
        assertEquals(OffsetAndTimestamp.UNKNOWN, await(storage.listOffset(p0, 5_000L, IsolationLevel.READ_UNCOMMITTED)));
        assertEquals(OffsetAndTimestamp.UNKNOWN, await(storage.listOffset(p0, OffsetSpec.MAX_TIMESTAMP, IsolationLevel.READ_UNCOMMITTED)));
        assertFails(ErrorCode.INVALID_REQUEST, storage.listOffset(p0, -42L, IsolationLevel.READ_UNCOMMITTED));

        assertEquals(4L, await(storage.deleteRecords(p0, 4L)));
        assertEquals(4L, await(storage.deleteRecords(p0, 2L)), "never moves back");
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.deleteRecords(p0, 11L));
        assertEquals(new OffsetAndTimestamp(4L, -1L, 0), await(storage.listOffset(p0, OffsetSpec.EARLIEST, IsolationLevel.READ_UNCOMMITTED)));
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, 3L, 100, true, IsolationLevel.READ_UNCOMMITTED));
        assertEquals(10L, await(storage.deleteRecords(p0, -1L)), "-1 means the high watermark");
    }

    @Test
    void awaitDataWakesOnTheNextAppendAndOnDelete() throws Exception {
        produce(p0, KafkaBatches.plain(10));
        CompletableFuture<Void> waiting = storage.awaitData(p0, 0L, IsolationLevel.READ_UNCOMMITTED);
        assertFalse(waiting.isDone(), "null never returns data, so it waits for the next append, not for offset 0");
        produce(p1, KafkaBatches.plain(1));
        assertFalse(waiting.isDone(), "another partition");
        produce(p0, KafkaBatches.plain(1));
        waiting.get(5, TimeUnit.SECONDS);

        CompletableFuture<Void> untilDelete = storage.awaitData(p1, 1L, IsolationLevel.READ_UNCOMMITTED);
        assertFalse(untilDelete.isDone());
        await(storage.deleteTopic(TopicRef.of("t")));
        untilDelete.get(5, TimeUnit.SECONDS);
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.awaitData(p1, 1L, IsolationLevel.READ_UNCOMMITTED));
    }

    @Test
    void closeFailsLaterCallsAndWakesWaiters() throws Exception {
        CompletableFuture<Void> waiting = storage.awaitData(p0, 0L, IsolationLevel.READ_UNCOMMITTED);
        storage.close();
        waiting.get(5, TimeUnit.SECONDS);
        assertFails(ErrorCode.KAFKA_STORAGE_ERROR, storage.produce(null, p0, KafkaBatches.plain(1)));
        assertFails(ErrorCode.KAFKA_STORAGE_ERROR, storage.ping());
        storage.close(); // idempotent
    }
}
