package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import kiri.protocol.ErrorCode;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetSpec;
import kiri.testsupport.KafkaBatches;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.junit.jupiter.api.Test;

/** ListOffsets: earliest, latest, by timestamp and max timestamp. */
public abstract class ListOffsetsContract extends RecordsContract {

    /** Offsets 0-2 at t+0..2, offsets 3-5 at t+1000..1002. */
    private void twoBatches() {
        topic("t", 1);
        produce(p0, KafkaBatches.plain("a", 3, START_MS));
        produce(p0, KafkaBatches.plain("b", 3, START_MS + 1000));
    }

    private long offsetFor(long spec) {
        return await(storage.listOffset(p0, spec, RU)).offset();
    }

    @Test
    void earliestAndLatest() {
        twoBatches();
        assertEquals(0, offsetFor(OffsetSpec.EARLIEST));
        assertEquals(0, offsetFor(OffsetSpec.EARLIEST_LOCAL));
        assertEquals(6, offsetFor(OffsetSpec.LATEST));
        assertFails(ErrorCode.INVALID_REQUEST, storage.listOffset(p0, -42, RU));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.listOffset(p1, OffsetSpec.LATEST, RU));
    }

    @Test
    void byTimestampFindsTheFirstBatchReachingIt() {
        requires(Capability.RECORDS);
        twoBatches();
        assertEquals(0, offsetFor(START_MS - 5000), "before every record: the first");
        assertEquals(3, offsetFor(START_MS + 1000));
        assertEquals(3, offsetFor(START_MS + 500), "between the batches: the next record");
        assertEquals(OffsetAndTimestamp.UNKNOWN, await(storage.listOffset(p0, START_MS + 5000, RU)), "after every record");
    }

    @Test
    void byTimestampFindsTheExactRecord() {
        requires(Capability.RECORDS);
        requires(Capability.RECORD_TIMESTAMPS);
        twoBatches();
        OffsetAndTimestamp r = await(storage.listOffset(p0, START_MS + 1001, RU));
        assertEquals(4, r.offset());
        assertEquals(START_MS + 1001, r.timestamp());
        assertEquals(2, offsetFor(START_MS + 2));
        assertEquals(START_MS + 1000, await(storage.listOffset(p0, START_MS + 1000, RU)).timestamp(), "the record's own timestamp");
    }

    @Test
    void byTimestampLooksInsideACompressedBatch() {
        requires(Capability.RECORDS);
        requires(Capability.RECORD_TIMESTAMPS);
        topic("t", 1);
        produce(p0, KafkaBatches.segment(MemoryRecords.withRecords(Compression.gzip().build(), KafkaBatches.records("z", 4, START_MS))));
        OffsetAndTimestamp r = await(storage.listOffset(p0, START_MS + 2, RU));
        assertEquals(2, r.offset());
        assertEquals(START_MS + 2, r.timestamp());
    }

    @Test
    void maxTimestampIsTheNewestRecord() {
        requires(Capability.RECORDS);
        twoBatches();
        produce(p0, KafkaBatches.plain("old", 2, START_MS - 100_000)); // late-arriving older records
        OffsetAndTimestamp max = await(storage.listOffset(p0, OffsetSpec.MAX_TIMESTAMP, RU));
        assertEquals(5, max.offset());
        assertEquals(START_MS + 1002, max.timestamp());
    }
}
