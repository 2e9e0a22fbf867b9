package kiri.storage.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.ErrorCode;
import kiri.protocol.Records;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Stages;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.testsupport.KafkaBatches;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryRecordsTest {
    private final AtomicLong now = new AtomicLong(1_000_000L);
    private final Storage storage = new MemoryStorage(new StorageContext(1, "c", "localhost", 9092,
            new InstantSource() {
                @Override
                public Instant instant() {
                    return Instant.ofEpochMilli(now.get());
                }
            }));
    private final TopicPartition p0 = new TopicPartition("t", 0);
    private final TopicPartition p1 = new TopicPartition("t", 1);

    MemoryRecordsTest() {
        await(storage.createTopic(new NewTopic("t", 2), false));
    }

    @AfterEach
    void close() {
        storage.close();
    }

    private long produce(TopicPartition tp, MemorySegment batch) {
        await(storage.produce(null, tp, batch));
        return kiri.protocol.record.RecordBatch.baseOffset(batch);
    }

    /** Every record Kafka's parser finds in a fetch result, CRCs checked. */
    private static List<Record> records(FetchResult r) {
        List<Record> out = new ArrayList<>();
        for (RecordBatch b : batches(r)) {
            b.ensureValid();
            if (b.isControlBatch()) continue;
            b.forEach(out::add);
        }
        return out;
    }

    private static List<RecordBatch> batches(FetchResult r) {
        List<RecordBatch> out = new ArrayList<>();
        for (Records.Region region : r.batches()) {
            MemorySegment s = ((Records.Memory) region).segment();
            MemoryRecords.readableRecords(ByteBuffer.wrap(s.toArray(ValueLayout.JAVA_BYTE))).batches().forEach(out::add);
        }
        return out;
    }

    private FetchResult fetch(TopicPartition tp, long offset, int maxBytes, IsolationLevel isolation) {
        return await(storage.fetch(tp, offset, maxBytes, true, isolation));
    }

    private static MemorySegment withTimestamps(long... timestamps) {
        SimpleRecord[] r = new SimpleRecord[timestamps.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = new SimpleRecord(timestamps[i], ("k" + i).getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        return KafkaBatches.segment(MemoryRecords.withRecords(Compression.NONE, r));
    }

    @Test
    void providerIsFoundByScheme() {
        try (Storage s = Storages.open("memory://", new StorageContext(0, null, "localhost", 9092))) {
            assertEquals("kiri.storage.memory", s.getClass().getModule().getName());
            assertTrue(s.describe().startsWith("memory://"), s.describe());
        }
    }

    @Test
    void producedBatchesComeBackByteForByteWithTheirOffsets() {
        MemorySegment a = KafkaBatches.plain(3);
        MemorySegment b = KafkaBatches.plain(2);
        assertEquals(0L, produce(p0, a));
        assertEquals(3L, produce(p0, b));
        assertEquals(0L, produce(p1, KafkaBatches.plain(4)), "partitions count independently");
        assertSame(Stages.DONE, storage.produce(null, p1, KafkaBatches.plain(1)));
        // the caller's segment may be reused once produce completed: the engine kept a copy
        byte[] expectedA = a.toArray(ValueLayout.JAVA_BYTE);
        a.fill((byte) 0);
        try (FetchResult r = fetch(p0, 0, 1 << 20, IsolationLevel.READ_UNCOMMITTED)) {
            assertEquals(new PartitionOffsets(0, 5, 5), r.offsets());
            assertEquals(2, r.batches().size());
            assertArrayEquals(expectedA, ((Records.Memory) r.batches().get(0)).segment().toArray(ValueLayout.JAVA_BYTE));
            List<Record> records = records(r);
            assertEquals(5, records.size());
            for (int i = 0; i < 5; i++) assertEquals(i, records.get(i).offset());
        }
        try (FetchResult r = fetch(p0, 5, 1 << 20, IsolationLevel.READ_UNCOMMITTED)) {
            assertTrue(r.isEmpty(), "at the end: nothing, no error");
        }
        assertEquals(Map.of(p0, a.byteSize() + b.byteSize(), p1, (long) KafkaBatches.plain(4).byteSize()
                + KafkaBatches.plain(1).byteSize()), await(storage.partitionSizes()));
    }

    @Test
    void fetchStartsWithTheBatchContainingTheOffsetAndHonoursMaxBytes() {
        long[] sizes = new long[4];
        for (int i = 0; i < 4; i++) {
            MemorySegment batch = KafkaBatches.plain(10);
            sizes[i] = batch.byteSize();
            produce(p0, batch);
        }
        try (FetchResult r = fetch(p0, 15, 1 << 20, IsolationLevel.READ_UNCOMMITTED)) {
            assertEquals(10L, batches(r).get(0).baseOffset(), "the batch containing 15 comes first");
            assertEquals(3, r.batches().size());
        }
        try (FetchResult r = fetch(p0, 0, (int) (sizes[0] + sizes[1] + 1), IsolationLevel.READ_UNCOMMITTED)) {
            assertEquals(2, r.batches().size(), "whole batches only, within max bytes");
        }
        try (FetchResult r = fetch(p0, 0, 1, IsolationLevel.READ_UNCOMMITTED)) {
            assertEquals(1, r.batches().size(), "minOneBatch: the first batch even if larger than max bytes");
        }
        try (FetchResult r = await(storage.fetch(p0, 0, 1, false, IsolationLevel.READ_UNCOMMITTED))) {
            assertTrue(r.isEmpty(), "without minOneBatch nothing fits");
            assertEquals(40L, r.highWatermark());
        }
    }

    @Test
    void outOfRangeOffsets() {
        produce(p0, KafkaBatches.plain(5));
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, 6, 100, true, IsolationLevel.READ_UNCOMMITTED));
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, -1, 100, true, IsolationLevel.READ_UNCOMMITTED));
        assertEquals(3L, await(storage.deleteRecords(p0, 3)));
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, 2, 100, true, IsolationLevel.READ_UNCOMMITTED));
        try (FetchResult r = fetch(p0, 3, 1 << 20, IsolationLevel.READ_UNCOMMITTED)) {
            assertEquals(3L, r.logStartOffset());
            assertEquals(1, r.batches().size(), "the batch holding offset 3 is still served whole");
        }
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.fetch(new TopicPartition("t", 2), 0, 100, true,
                IsolationLevel.READ_UNCOMMITTED));
    }

    @Test
    void deleteRecordsMovesTheLogStartForwardOnlyAndFreesWholeBatches() {
        produce(p0, KafkaBatches.plain(5));
        produce(p0, KafkaBatches.plain(5));
        long second = KafkaBatches.plain(5).byteSize();
        assertEquals(7L, await(storage.deleteRecords(p0, 7)));
        assertEquals(7L, await(storage.deleteRecords(p0, 2)), "never moves back");
        assertEquals(second, await(storage.partitionSizes()).get(p0), "the first batch is gone, the second stays");
        assertEquals(7L, await(storage.listOffset(p0, OffsetSpec.EARLIEST, IsolationLevel.READ_UNCOMMITTED)).offset());
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.deleteRecords(p0, 11));
        assertEquals(10L, await(storage.deleteRecords(p0, -1)), "-1: up to the high watermark");
        assertEquals(0L, await(storage.partitionSizes()).get(p0));
        assertEquals(new PartitionOffsets(10, 10, 10), await(storage.offsets(p0)));
        assertEquals(10L, produce(p0, KafkaBatches.plain(1)), "offsets continue after deletion");
    }

    @Test
    void idempotentProducers() {
        long pid = 42L;
        MemorySegment first = KafkaBatches.idempotent(pid, (short) 0, 0, 3);
        assertEquals(0L, produce(p0, first));
        assertEquals(3L, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 3, 2)));
        MemorySegment retry = KafkaBatches.idempotent(pid, (short) 0, 0, 3);
        kiri.protocol.record.RecordBatch.setBaseOffset(retry, 77L);
        assertEquals(0L, produce(p0, retry), "a duplicate gets its original offset");
        assertEquals(5L, await(storage.offsets(p0)).highWatermark(), "and is not stored again");
        assertFails(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, storage.produce(null, p0, KafkaBatches.idempotent(pid, (short) 0, 7, 1)));
        assertEquals(5L, produce(p0, KafkaBatches.idempotent(pid, (short) 1, 0, 1)), "a new epoch starts at 0");
        assertFails(ErrorCode.INVALID_PRODUCER_EPOCH, storage.produce(null, p0, KafkaBatches.idempotent(pid, (short) 0, 5, 1)));
        assertEquals(1, await(storage.describeProducers(p0)).size());
        try (FetchResult r = fetch(p0, 0, 1 << 20, IsolationLevel.READ_UNCOMMITTED)) {
            assertEquals(6, records(r).size());
        }
    }

    @Test
    void produceErrors() {
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, new TopicPartition("t", 2), KafkaBatches.plain(1)));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, new TopicPartition("x", 0), KafkaBatches.plain(1)));
        await(storage.alterTopicConfigs("t", List.of(ConfigOp.set("max.message.bytes", "100")), false));
        assertFails(ErrorCode.MESSAGE_TOO_LARGE, storage.produce(null, p0, KafkaBatches.plain(20)));
        assertFails(ErrorCode.INVALID_RECORD, storage.produce(null, p0, KafkaBatches.transactional(1L, (short) 0, 0, 1)));
        assertEquals(0L, await(storage.offsets(p0)).highWatermark());
    }

    @Test
    void readCommittedStopsAtTheLastStableOffsetAndReportsAbortedTransactions() {
        ProducerIdAndEpoch tx = await(storage.initProducerId("tx", 60_000, ProducerIdAndEpoch.NONE));
        produce(p0, KafkaBatches.plain(2)); // 0-1
        await(storage.produce("tx", p0, KafkaBatches.transactional(tx.producerId(), tx.epoch(), 0, 3))); // 2-4
        produce(p0, KafkaBatches.plain(1)); // 5
        assertEquals(new PartitionOffsets(0, 2, 6), await(storage.offsets(p0)));
        try (FetchResult r = fetch(p0, 0, 1 << 20, IsolationLevel.READ_COMMITTED)) {
            assertEquals(1, r.batches().size(), "only what precedes the open transaction");
            assertEquals(2L, r.lastStableOffset());
        }
        try (FetchResult r = fetch(p0, 2, 1 << 20, IsolationLevel.READ_COMMITTED)) {
            assertTrue(r.isEmpty());
        }
        assertEquals(2L, await(storage.listOffset(p0, OffsetSpec.LATEST, IsolationLevel.READ_COMMITTED)).offset());
        CompletableFuture<Void> committedWait = storage.awaitData(p0, 2, IsolationLevel.READ_COMMITTED);
        assertFalse(committedWait.isDone());
        await(storage.endTxn("tx", tx, false, false)); // abort: marker at 6
        assertTrue(committedWait.isDone(), "the marker moved the last stable offset");
        assertEquals(new PartitionOffsets(0, 7, 7), await(storage.offsets(p0)));
        try (FetchResult r = fetch(p0, 0, 1 << 20, IsolationLevel.READ_COMMITTED)) {
            assertEquals(List.of(new AbortedTransaction(tx.producerId(), 2L)), r.abortedTransactions());
            List<RecordBatch> batches = batches(r);
            assertEquals(4, batches.size());
            assertTrue(batches.get(3).isControlBatch(), "the ABORT marker is stored and served");
        }
        try (FetchResult r = fetch(p0, 0, 1 << 20, IsolationLevel.READ_UNCOMMITTED)) {
            assertEquals(List.of(), r.abortedTransactions(), "read_uncommitted gets no aborted list");
        }
        produce(p0, KafkaBatches.plain(1)); // 7
        try (FetchResult r = fetch(p0, 7, 1 << 20, IsolationLevel.READ_COMMITTED)) {
            assertEquals(List.of(), r.abortedTransactions(), "only transactions overlapping the returned range");
        }
    }

    @Test
    void committedTransactionsBecomeVisible() {
        ProducerIdAndEpoch tx = await(storage.initProducerId("tx", 60_000, ProducerIdAndEpoch.NONE));
        await(storage.produce("tx", p1, KafkaBatches.transactional(tx.producerId(), tx.epoch(), 0, 3)));
        assertEquals(0L, await(storage.offsets(p1)).lastStableOffset());
        await(storage.endTxn("tx", tx, true, false));
        try (FetchResult r = fetch(p1, 0, 1 << 20, IsolationLevel.READ_COMMITTED)) {
            assertEquals(3, records(r).size());
            assertEquals(List.of(), r.abortedTransactions());
            assertEquals(4L, r.lastStableOffset());
        }
    }

    @Test
    void listOffsetsByTimestamp() {
        produce(p0, withTimestamps(100, 200, 300)); // 0-2
        produce(p0, withTimestamps(250, 900, 400)); // 3-5
        produce(p0, withTimestamps(500)); // 6
        IsolationLevel ru = IsolationLevel.READ_UNCOMMITTED;
        assertEquals(new OffsetAndTimestamp(0, 100, 0), await(storage.listOffset(p0, 50, ru)));
        assertEquals(new OffsetAndTimestamp(1, 200, 0), await(storage.listOffset(p0, 150, ru)), "within the first batch");
        assertEquals(new OffsetAndTimestamp(2, 300, 0), await(storage.listOffset(p0, 300, ru)));
        assertEquals(new OffsetAndTimestamp(4, 900, 0), await(storage.listOffset(p0, 301, ru)), "first record >= T, not the smallest >= T");
        assertEquals(OffsetAndTimestamp.UNKNOWN, await(storage.listOffset(p0, 901, ru)));
        assertEquals(new OffsetAndTimestamp(4, 900, 0), await(storage.listOffset(p0, OffsetSpec.MAX_TIMESTAMP, ru)));
        assertEquals(0L, await(storage.listOffset(p0, OffsetSpec.EARLIEST, ru)).offset());
        assertEquals(7L, await(storage.listOffset(p0, OffsetSpec.LATEST, ru)).offset());
        assertEquals(OffsetAndTimestamp.UNKNOWN, await(storage.listOffset(p1, OffsetSpec.MAX_TIMESTAMP, ru)));
        assertFails(ErrorCode.INVALID_REQUEST, storage.listOffset(p0, -7, ru));
        await(storage.deleteRecords(p0, 1));
        assertEquals(new OffsetAndTimestamp(1, 200, 0), await(storage.listOffset(p0, 50, ru)), "never before the log start");
    }

    @Test
    void logAppendTimeTopicsStampTheBatch() {
        await(storage.createTopic(new NewTopic("lat", 1, (short) 1, Map.of("message.timestamp.type", "LogAppendTime")), false));
        TopicPartition lat = new TopicPartition("lat", 0);
        produce(lat, withTimestamps(5, 6));
        try (FetchResult r = fetch(lat, 0, 1 << 20, IsolationLevel.READ_UNCOMMITTED)) {
            RecordBatch b = batches(r).get(0);
            b.ensureValid();
            assertEquals(TimestampType.LOG_APPEND_TIME, b.timestampType());
            assertEquals(now.get(), b.maxTimestamp());
        }
        assertEquals(new OffsetAndTimestamp(0, now.get(), 0), await(storage.listOffset(lat, 10, IsolationLevel.READ_UNCOMMITTED)));
    }

    @Test
    void retentionByTimeAndBytes() {
        await(storage.createTopic(new NewTopic("r", 1, (short) 1, Map.of("retention.ms", "1000")), false));
        TopicPartition r0 = new TopicPartition("r", 0);
        long t = now.get();
        produce(r0, withTimestamps(t - 5000, t - 4000)); // 0-1
        produce(r0, withTimestamps(t - 10)); // 2
        await(storage.maintain(t));
        assertEquals(2L, await(storage.offsets(r0)).logStartOffset(), "the old batch expired, the recent one stays");
        await(storage.maintain(t + 2000));
        assertEquals(new PartitionOffsets(3, 3, 3), await(storage.offsets(r0)), "everything expired");

        long size = KafkaBatches.plain(10).byteSize();
        await(storage.alterTopicConfigs("t", List.of(ConfigOp.set("retention.bytes", Long.toString(2 * size))), false));
        for (int i = 0; i < 5; i++) produce(p1, KafkaBatches.plain(10));
        await(storage.maintain(t)); // retention.ms stays the default week: only the size applies
        assertEquals(new PartitionOffsets(30, 50, 50), await(storage.offsets(p1)), "down to retention.bytes, whole batches");
        assertEquals(2 * size, await(storage.partitionSizes()).get(p1));
    }

    @Test
    void awaitDataCompletesOnAppendAndOnDelete() {
        CompletableFuture<Void> wait = storage.awaitData(p0, 0, IsolationLevel.READ_UNCOMMITTED);
        assertFalse(wait.isDone());
        produce(p0, KafkaBatches.plain(1));
        assertTrue(wait.isDone());
        assertTrue(storage.awaitData(p0, 0, IsolationLevel.READ_UNCOMMITTED).isDone(), "data already there");
        CompletableFuture<Void> later = storage.awaitData(p0, 1, IsolationLevel.READ_UNCOMMITTED);
        assertFalse(later.isDone());
        await(storage.deleteTopic(TopicRef.of("t")));
        assertTrue(later.isDone(), "deleting the topic wakes waiters");
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.fetch(p0, 0, 100, true, IsolationLevel.READ_UNCOMMITTED));
    }

    @Test
    void concurrentIdempotentProducersGetContiguousOffsets() throws Exception {
        int threads = 4;
        int batches = 500;
        List<Thread> running = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            long pid = 100 + t;
            Thread thread = new Thread(() -> {
                try {
                    for (int b = 0; b < batches; b++) {
                        await(storage.produce(null, p0, KafkaBatches.idempotent(pid, (short) 0, b * 2, 2)));
                        if (b % 50 == 0) { // a retry of the previous batch is a duplicate, never stored twice
                            await(storage.produce(null, p0, KafkaBatches.idempotent(pid, (short) 0, b * 2, 2)));
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            running.add(thread);
            thread.start();
        }
        for (Thread t : running) {
            t.join();
        }
        assertEquals(List.of(), failures);
        long expected = (long) threads * batches * 2;
        assertEquals(new PartitionOffsets(0, expected, expected), await(storage.offsets(p0)));
        try (FetchResult r = fetch(p0, 0, Integer.MAX_VALUE, IsolationLevel.READ_UNCOMMITTED)) {
            long next = 0;
            for (RecordBatch b : batches(r)) {
                assertEquals(next, b.baseOffset(), "no gap, no overlap");
                next = b.nextOffset();
            }
            assertEquals(expected, next);
        }
    }
}
