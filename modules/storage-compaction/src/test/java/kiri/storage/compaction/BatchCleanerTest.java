package kiri.storage.compaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import kiri.compress.BatchCompression;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.ControlBatch;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordBatchBuilder;
import kiri.protocol.record.RecordCursor;
import kiri.storage.api.AbortedTransaction;
import org.junit.jupiter.api.Test;

class BatchCleanerTest {
    private static final long NOW = 10_000_000L;
    private static final CompactionConfig CONFIG = new CompactionConfig(true, false, 1_000, 0.5, 0, Long.MAX_VALUE);

    /** A batch at {@code base} of records {key, value-or-null} with timestamp {@code ts}. */
    private static MemorySegment batch(long base, long ts, long pid, boolean txn, String... kv) {
        MemorySegment s = MemorySegment.ofArray(new byte[4096]);
        RecordBatchBuilder b = new RecordBatchBuilder().wrap(s, 0).baseOffset(base).transactional(txn);
        if (pid >= 0) b.producer(pid, (short) 0, (int) base);
        for (int i = 0; i < kv.length; i += 2) {
            b.append(ts, kv[i] == null ? null : kv[i].getBytes(StandardCharsets.UTF_8),
                    kv[i + 1] == null ? null : kv[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return s.asSlice(0, b.build());
    }

    private static List<String> records(MemorySegment batch) {
        MemorySegment b = RecordBatch.compressionId(batch) == 0 ? batch
                : BatchCompression.decompress(new RecordBatch().wrap(batch, 0), 1 << 20);
        RecordCursor c = new RecordCursor().wrap(new RecordBatch().wrap(b, 0));
        List<String> out = new ArrayList<>();
        while (c.next()) {
            out.add(c.offset() + ":" + new String(c.key().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                    + "=" + (c.hasValue() ? new String(c.value().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)) : "null"));
        }
        return out;
    }

    private static List<MemorySegment> clean(List<MemorySegment> batches, List<AbortedTransaction> aborted) {
        return clean(batches, aborted, true);
    }

    private static List<MemorySegment> clean(List<MemorySegment> batches, List<AbortedTransaction> aborted, boolean active) {
        BatchCleaner cleaner = new BatchCleaner(CONFIG, NOW, new OffsetMap(1000), aborted);
        for (MemorySegment b : batches) assertTrue(cleaner.index(b));
        cleaner.beginClean(pid -> active);
        List<MemorySegment> out = new ArrayList<>();
        for (MemorySegment b : batches) {
            MemorySegment kept = cleaner.clean(b, false);
            if (kept != null) out.add(MemorySegment.ofArray(kept.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
        }
        return out;
    }

    @Test
    void keepsTheLatestRecordPerKeyWithItsOffsetAndDropsOldTombstones() {
        MemorySegment first = batch(0, NOW, -1, false, "a", "1", "b", "1", "c", "1");
        MemorySegment second = batch(3, NOW, -1, false, "a", "2", "b", null);
        MemorySegment oldTombstone = batch(5, NOW - 5_000, -1, false, "c", null);
        MemorySegment keyless = batch(6, NOW, -1, false, null, "x", "d", "1");
        List<MemorySegment> out = clean(List.of(first, second, oldTombstone, keyless), List.of());
        assertEquals(2, out.size(), "the first batch and the tombstone batch go entirely");
        assertEquals(List.of("3:a=2", "4:b=null"), records(out.get(0)), "a fresh tombstone stays");
        assertEquals(3, RecordBatch.baseOffset(out.get(0)));
        assertEquals(1, RecordBatch.lastOffsetDelta(out.get(0)), "the last offset delta is kept");
        assertEquals(List.of("7:d=1"), records(out.get(1)), "the keyless record goes, the gap stays");
        assertEquals(6, RecordBatch.baseOffset(out.get(1)));
        assertEquals(1, RecordBatch.lastOffsetDelta(out.get(1)));
        for (MemorySegment b : out) assertTrue(RecordBatch.isCrcValid(b), "CRC rewritten");
    }

    @Test
    void aBatchKeptWholeIsTheSameBytes() {
        MemorySegment only = batch(0, NOW, -1, false, "a", "1", "b", "1");
        BatchCleaner cleaner = new BatchCleaner(CONFIG, NOW, new OffsetMap(10), List.of());
        cleaner.index(only);
        cleaner.beginClean(pid -> true);
        assertSame(only, cleaner.clean(only, false));
    }

    @Test
    void compressedBatchesAreRecompressed() {
        MemorySegment plain = batch(0, NOW, -1, false, "a", "1", "b", "1", "a", "2");
        MemorySegment zstd = BatchCompression.compress(plain, CompressionType.ZSTD);
        List<MemorySegment> out = clean(List.of(zstd), List.of());
        assertEquals(CompressionType.ZSTD.id(), RecordBatch.compressionId(out.getFirst()));
        assertEquals(List.of("1:b=1", "2:a=2"), records(out.getFirst()));
        assertTrue(RecordBatch.isCrcValid(out.getFirst()));
    }

    @Test
    void producersKeepTheirLastBatchEmptyAndAbortedDataGoes() {
        MemorySegment idem = batch(0, NOW, 7, false, "a", "1");
        MemorySegment later = batch(1, NOW, -1, false, "a", "2");
        MemorySegment abortedData = batch(2, NOW, 9, true, "a", "3");
        MemorySegment abort = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(abort, 3, 0, 9, (short) 0, false, 0, NOW - 5_000);
        List<MemorySegment> out = clean(List.of(idem, later, abortedData, abort),
                List.of(new AbortedTransaction(9, 2)));
        assertEquals(4, out.size(), "producer 9's last batch stays, empty, so its marker stays too");
        assertEquals(0, RecordBatch.recordCount(out.get(0)), "producer 7's last batch kept empty");
        assertEquals(7, RecordBatch.producerId(out.get(0)));
        assertEquals(0, RecordBatch.lastSequence(out.get(0)));
        assertEquals(List.of("1:a=2"), records(out.get(1)), "the aborted a=3 does not shadow a=2");
        assertEquals(0, RecordBatch.recordCount(out.get(2)));
        assertTrue(RecordBatch.isControl(out.get(3)));
    }

    @Test
    void anOldMarkerWithNoDataLeftGoes() {
        MemorySegment data = batch(0, NOW, 9, true, "a", "1");
        MemorySegment newer = batch(1, NOW, 9, true, "a", "2");
        MemorySegment commit = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(commit, 2, 0, 9, (short) 0, true, 0, NOW - 5_000);
        MemorySegment plain = batch(3, NOW, -1, false, "a", "3");
        List<MemorySegment> out = clean(List.of(data, newer, commit, plain), List.of());
        assertEquals(3, out.size(), "an active producer's last batch stays (empty), and so does its marker");
        assertEquals(1, RecordBatch.baseOffset(out.get(0)));
        assertEquals(0, RecordBatch.recordCount(out.get(0)));
        assertTrue(RecordBatch.isControl(out.get(1)));
        out = clean(List.of(data, newer, commit, plain), List.of(), false);
        assertEquals(1, out.size(), "producer expired: its superseded data and its old marker go");
        assertEquals(List.of("3:a=3"), records(out.get(0)));
    }

    @Test
    void aFullMapStopsTheRange() {
        BatchCleaner cleaner = new BatchCleaner(CONFIG, NOW, new OffsetMap(2), List.of());
        assertTrue(cleaner.index(batch(0, NOW, -1, false, "a", "1", "b", "1")));
        assertEquals(false, cleaner.index(batch(2, NOW, -1, false, "c", "1")));
    }

    @Test
    void offsetMapKeepsTheLatestOffsetAndGrows() {
        OffsetMap map = new OffsetMap(100_000);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 50_000; i++) {
                MemorySegment k = MemorySegment.ofArray(("key-" + i).getBytes(StandardCharsets.UTF_8));
                assertTrue(map.put(k, 0, (int) k.byteSize(), round * 50_000L + i));
            }
        }
        assertEquals(50_000, map.size());
        MemorySegment k = MemorySegment.ofArray("key-123".getBytes(StandardCharsets.UTF_8));
        assertEquals(50_123, map.latest(k, 0, 7));
        assertEquals(-1, map.latest(MemorySegment.ofArray(new byte[] {1}), 0, 1));
    }
}
