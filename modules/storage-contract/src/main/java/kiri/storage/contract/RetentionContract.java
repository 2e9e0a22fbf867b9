package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import kiri.protocol.ErrorCode;
import kiri.storage.api.OffsetSpec;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

/**
 * DeleteRecords and retention by the engine's {@code maintain} hook. Each batch is written after the
 * clock passed {@code segment.ms}, so engines that delete whole segments (never the active one) and
 * engines that delete batches agree on what goes.
 */
public abstract class RetentionContract extends ListOffsetsContract {
    private static final long SEGMENT_MS = 1000;

    @Test
    void deleteRecordsMovesTheLogStartForward() {
        topic("t", 1);
        for (int i = 0; i < 5; i++) produce(p0, KafkaBatches.plain("v" + i + "-", 2, START_MS));
        assertEquals(4L, await(storage.deleteRecords(p0, 4)));
        assertEquals(4, offsets(p0).logStartOffset());
        assertEquals(4, await(storage.listOffset(p0, OffsetSpec.EARLIEST, RU)).offset());
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, 2, 1000, true, RU));
        assertEquals(4L, await(storage.deleteRecords(p0, 2)), "never moves back");
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.deleteRecords(p0, 11));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.deleteRecords(p1, 0));
        assertEquals(10L, await(storage.deleteRecords(p0, -1)), "-1: up to the high watermark");
        assertEquals(10, produce(p0, KafkaBatches.plain(1)), "offsets go on");
    }

    @Test
    void deletedRecordsAreNotFetched() {
        requires(Capability.RECORDS);
        topic("t", 1);
        for (int i = 0; i < 5; i++) produce(p0, KafkaBatches.plain("v" + i + "-", 2, START_MS));
        await(storage.deleteRecords(p0, 4));
        Fetched f = fetch(p0, 4, RU);
        assertEquals(4L, f.dataOffsets().getFirst());
        assertEquals("v2-0", f.values().getFirst());
        assertEquals(4, f.offsets().logStartOffset());
    }

    @Test
    void retentionMsDropsExpiredRecords() {
        requires(Capability.RECORDS);
        topic("t", 1, Map.of("retention.ms", "60000", "segment.ms", Long.toString(SEGMENT_MS)));
        produce(p0, KafkaBatches.plain("old", 3, START_MS - 600_000));
        now.addAndGet(2 * SEGMENT_MS);
        long kept = produce(p0, KafkaBatches.plain("new", 2, now.get()));
        await(storage.maintain(now.get()));
        assertEquals(kept, offsets(p0).logStartOffset(), "the expired batch is gone");
        assertFails(ErrorCode.OFFSET_OUT_OF_RANGE, storage.fetch(p0, 0, 1000, true, RU));
        assertEquals(List.of("new0", "new1"), fetch(p0, kept, RU).values());
        assertEquals(5, offsets(p0).highWatermark(), "retention never moves the high watermark");
    }

    @Test
    void retentionBytesKeepsTheNewestBatches() {
        requires(Capability.RECORDS);
        requires(Capability.RETENTION_BYTES);
        topic("t", 1, Map.of("segment.ms", Long.toString(SEGMENT_MS)));
        long[] bases = new long[3];
        long size = 0;
        for (int i = 0; i < 3; i++) {
            MemorySegment batch = KafkaBatches.big(2000, now.get());
            size = batch.byteSize();
            bases[i] = produce(p0, batch);
            now.addAndGet(2 * SEGMENT_MS);
        }
        produce(p0, KafkaBatches.big(2000, now.get())); // the active segment's batch
        await(storage.alterTopicConfigs("t", List.of(kiri.storage.api.ConfigOp.set("retention.bytes", Long.toString(3 * size))), false));
        await(storage.maintain(now.get()));
        assertEquals(bases[1], offsets(p0).logStartOffset(), "the oldest batch went, three remain");
        assertTrue(await(storage.partitionSizes()).get(p0) < 4 * size, "sizes follow");
    }
}
