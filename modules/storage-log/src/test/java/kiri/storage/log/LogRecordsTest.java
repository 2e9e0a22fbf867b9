package kiri.storage.log;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.protocol.Records;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static kiri.storage.log.Harness.await;
import static kiri.storage.log.Harness.errorOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogRecordsTest {
    static final TopicPartition TP = new TopicPartition("t", 0);
    static final IsolationLevel RU = IsolationLevel.READ_UNCOMMITTED;

    @TempDir
    Path dir;

    static long produce(LogStorage s, TopicPartition tp, MemorySegment batch) {
        await(s.produce(null, tp, batch));
        return kiri.protocol.record.RecordBatch.baseOffset(batch);
    }

    static byte[] fetchAll(LogStorage s, TopicPartition tp, long from) throws Exception {
        try (FetchResult r = await(s.fetch(tp, from, Integer.MAX_VALUE, true, RU))) {
            return Batches.bytes(r);
        }
    }

    @Test
    void appendAndFetchRoundTripThroughFileRanges() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            assertEquals(0, produce(s, TP, KafkaBatches.plain("a", 3, 1_000)));
            assertEquals(3, produce(s, TP, KafkaBatches.plain("b", 2, 2_000)));
            assertEquals(5, produce(s, TP, KafkaBatches.plain("c", 1, 3_000)));
            try (FetchResult r = await(s.fetch(TP, 0, Integer.MAX_VALUE, true, RU))) {
                assertEquals(1, r.batches().size());
                assertInstanceOf(Records.FileRegion.class, r.batches().getFirst());
                assertEquals(6, r.highWatermark());
                assertEquals(6, r.lastStableOffset());
                assertEquals(0, r.logStartOffset());
                List<RecordBatch> batches = KafkaBatches.parse(Batches.bytes(r));
                assertEquals(3, batches.size());
                List<String> values = new ArrayList<>();
                for (RecordBatch b : batches) for (Record rec : b) values.add(rec.offset() + "=" + KafkaBatches.value(rec));
                assertEquals(List.of("0=a0", "1=a1", "2=a2", "3=b0", "4=b1", "5=c0"), values);
            }
            // From the middle of a batch: the whole batch comes back, clients skip what precedes the offset.
            assertEquals(List.of(3L, 4L, 5L), KafkaBatches.offsets(fetchAll(s, TP, 4)));
        }
    }

    @Test
    void fetchLimitsAndOutOfRange() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            MemorySegment first = KafkaBatches.plain(2);
            long firstSize = first.byteSize();
            produce(s, TP, first);
            produce(s, TP, KafkaBatches.plain(2));
            try (FetchResult r = await(s.fetch(TP, 0, (int) firstSize, false, RU))) {
                assertEquals(firstSize, r.byteSize()); // exactly one whole batch fits
            }
            try (FetchResult r = await(s.fetch(TP, 0, 1, false, RU))) {
                assertTrue(r.isEmpty()); // nothing fits and no right to one batch
            }
            try (FetchResult r = await(s.fetch(TP, 0, 1, true, RU))) {
                assertEquals(firstSize, r.byteSize()); // minOneBatch: the first batch anyway
            }
            try (FetchResult r = await(s.fetch(TP, 4, 1000, true, RU))) {
                assertTrue(r.isEmpty()); // at the high watermark
            }
            assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(s.fetch(TP, 5, 1000, true, RU)));
            assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(s.fetch(TP, -1, 1000, true, RU)));
            assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code(), errorOf(s.fetch(new TopicPartition("t", 1), 0, 1000, true, RU)));
        }
    }

    @Test
    void indexLookupsFindEveryOffsetAndTimestamp() throws Exception {
        int batches = 300; // ~100 bytes each: many index entries at a 4 KiB interval
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            for (int i = 0; i < batches; i++) produce(s, TP, KafkaBatches.plain("x", 2, 10_000L + 10L * i));
            Segment seg = segmentsOf(s, TP).getFirst();
            assertTrue(seg.indexEntries() > 3, "entries: " + seg.indexEntries());
            assertTrue(seg.timeIndexEntries() > 3, "time entries: " + seg.timeIndexEntries());
            for (long offset = 0; offset < 2L * batches; offset += 7) {
                try (FetchResult r = await(s.fetch(TP, offset, 1, true, RU))) {
                    List<Long> offsets = KafkaBatches.offsets(Batches.bytes(r));
                    assertEquals(offset - offset % 2, offsets.getFirst(), "fetch at " + offset);
                }
            }
            for (int i = 0; i < batches; i += 11) {
                long ts = 10_000L + 10L * i;
                assertEquals(new OffsetAndTimestamp(2L * i, ts, 0), await(s.listOffset(TP, ts, RU)));
                // Between two records' timestamps: the later record.
                assertEquals(new OffsetAndTimestamp(2L * i + 1, ts + 1, 0), await(s.listOffset(TP, ts + 1, RU)));
                assertEquals(new OffsetAndTimestamp(2L * i + 2, ts + 10, 0), await(s.listOffset(TP, ts + 2, RU)));
            }
            assertEquals(OffsetAndTimestamp.UNKNOWN, await(s.listOffset(TP, 1_000_000L, RU)));
            assertEquals(0, await(s.listOffset(TP, OffsetSpec.EARLIEST, RU)).offset());
            assertEquals(2L * batches, await(s.listOffset(TP, OffsetSpec.LATEST, RU)).offset());
            long lastTs = 10_000L + 10L * (batches - 1) + 1;
            assertEquals(new OffsetAndTimestamp(2L * batches - 1, lastTs, 0), await(s.listOffset(TP, OffsetSpec.MAX_TIMESTAMP, RU)));
        }
    }

    static List<Segment> segmentsOf(LogStorage s, TopicPartition tp) throws Exception {
        var f = PartitionLog.class.getDeclaredField("segments");
        f.setAccessible(true);
        return List.of((Segment[]) f.get(s.partitionLog(tp)));
    }

    @Test
    void segmentsRollBySizeAndTimeAndRetentionDeletesOldOnes() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        try (LogStorage s = Harness.open(dir, "", clock)) {
            Harness.topic(s, "t", 1, Map.of("segment.bytes", "1048576", "segment.ms", "60000"));
            // By size: 300 KiB records, four per MiB.
            for (int i = 0; i < 8; i++) produce(s, TP, KafkaBatches.big(300 * 1024, 5_000));
            int bySize = segmentsOf(s, TP).size();
            assertEquals(3, bySize, "8 batches of 300 KiB in 1 MiB segments");
            // By time: the active segment is older than segment.ms at the next append.
            clock.advance(61_000);
            produce(s, TP, KafkaBatches.plain("late", 1, clock.millis()));
            assertEquals(bySize + 1, segmentsOf(s, TP).size());
            assertEquals(8, segmentsOf(s, TP).getLast().baseOffset);

            // Retention by size: at most 600 KB beyond the oldest kept segment (whole segments; never the active one).
            await(s.alterTopicConfigs("t", List.of(new kiri.storage.api.ConfigOp("retention.bytes",
                    kiri.storage.api.ConfigOp.Type.SET, "600000")), false));
            await(s.maintain(clock.millis()));
            List<Segment> left = segmentsOf(s, TP);
            assertEquals(2, left.size(), "one full segment and the active one remain");
            long start = left.getFirst().baseOffset;
            assertEquals(start, await(s.offsets(TP)).logStartOffset());
            assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(s.fetch(TP, 0, 1000, true, RU)));
            assertEquals(start, KafkaBatches.offsets(fetchAll(s, TP, start)).getFirst());

            // Retention by time: the old segment's records (timestamp 5000) are older than retention.ms.
            await(s.alterTopicConfigs("t", List.of(
                    new kiri.storage.api.ConfigOp("retention.bytes", kiri.storage.api.ConfigOp.Type.DELETE, null),
                    new kiri.storage.api.ConfigOp("retention.ms", kiri.storage.api.ConfigOp.Type.SET, "100000")), false));
            await(s.maintain(clock.millis()));
            assertEquals(1, segmentsOf(s, TP).size());
            assertEquals(8, await(s.offsets(TP)).logStartOffset());
            assertEquals(List.of(8L), KafkaBatches.offsets(fetchAll(s, TP, 8)));
        }
    }

    @Test
    void fetchedRangesStayReadableWhileRetentionDeletesTheirSegment() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        try (LogStorage s = Harness.open(dir, "", clock)) {
            Harness.topic(s, "t", 1, Map.of("segment.ms", "1000", "retention.ms", "1000"));
            produce(s, TP, KafkaBatches.plain("old", 3, 1_000));
            clock.advance(2_000);
            produce(s, TP, KafkaBatches.plain("new", 1, clock.millis()));
            try (FetchResult pinned = await(s.fetch(TP, 0, 10_000, true, RU))) {
                await(s.maintain(clock.millis()));
                assertEquals(3, await(s.offsets(TP)).logStartOffset());
                assertEquals(List.of(0L, 1L, 2L), KafkaBatches.offsets(Batches.bytes(pinned)));
            }
        }
    }

    @Test
    void deleteRecordsAdvancesTheLogStartAndNeverMovesBack() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            for (int i = 0; i < 4; i++) produce(s, TP, KafkaBatches.plain(2));
            assertEquals(3L, await(s.deleteRecords(TP, 3)));
            assertEquals(3L, await(s.deleteRecords(TP, 1)));
            assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(s.deleteRecords(TP, 9)));
            assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(s.fetch(TP, 2, 1000, true, RU)));
            assertEquals(List.of(2L, 3L, 4L, 5L, 6L, 7L), KafkaBatches.offsets(fetchAll(s, TP, 3)));
            assertEquals(3, await(s.listOffset(TP, OffsetSpec.EARLIEST, RU)).offset());
            assertEquals(3, await(s.listOffset(TP, 0, RU)).offset()); // records before the start are gone for clients
            assertEquals(8L, await(s.deleteRecords(TP, -1)));
        }
    }

    @Test
    void awaitDataCompletesOnceAppendedDataIsDurable() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            CompletableFuture<Void> waiting = s.awaitData(TP, 0, RU);
            assertFalse(waiting.isDone());
            produce(s, TP, KafkaBatches.plain(1));
            await(waiting);
            assertTrue(s.awaitData(TP, 0, RU).isDone());
        }
    }

    @Test
    void idempotentRetryGetsTheOriginalOffsetAndGapsFail() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            assertEquals(0, produce(s, TP, KafkaBatches.idempotent(7, (short) 0, 0, 3)));
            assertEquals(3, produce(s, TP, KafkaBatches.idempotent(7, (short) 0, 3, 2)));
            assertEquals(0, produce(s, TP, KafkaBatches.idempotent(7, (short) 0, 0, 3))); // retry
            assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), errorOf(s.produce(null, TP, KafkaBatches.idempotent(7, (short) 0, 9, 1))));
            assertEquals(5, await(s.offsets(TP)).highWatermark());
        }
    }

    @Test
    void transactionsMoveTheLastStableOffsetAndReportAborts() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            var producer = await(s.initProducerId("tx", 60_000, kiri.storage.api.ProducerIdAndEpoch.NONE));
            await(s.produce("tx", TP, KafkaBatches.transactional(producer.producerId(), producer.epoch(), 0, 2)));
            assertEquals(0, await(s.offsets(TP)).lastStableOffset());
            try (FetchResult r = await(s.fetch(TP, 0, 10_000, true, IsolationLevel.READ_COMMITTED))) {
                assertTrue(r.isEmpty(), "nothing is committed yet");
            }
            try (FetchResult r = await(s.fetch(TP, 0, 10_000, true, RU))) {
                assertEquals(List.of(0L, 1L), KafkaBatches.offsets(Batches.bytes(r)));
            }
            CompletableFuture<Void> committedData = s.awaitData(TP, 0, IsolationLevel.READ_COMMITTED);
            assertFalse(committedData.isDone(), "the high watermark moved, the last stable offset did not");
            await(s.endTxn("tx", producer, false, false));
            await(committedData);
            var offsets = await(s.offsets(TP));
            assertEquals(3, offsets.highWatermark());
            assertEquals(3, offsets.lastStableOffset());
            try (FetchResult r = await(s.fetch(TP, 0, 10_000, true, IsolationLevel.READ_COMMITTED))) {
                assertEquals(List.of(new kiri.storage.api.AbortedTransaction(producer.producerId(), 0)), r.abortedTransactions());
                List<RecordBatch> batches = KafkaBatches.parse(Batches.bytes(r));
                assertEquals(2, batches.size());
                assertTrue(batches.get(1).isControlBatch());
            }
        }
    }
}
