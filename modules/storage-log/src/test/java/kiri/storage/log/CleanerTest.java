package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code file:} engine's cleaner on a compacted topic: each key's latest record stays at its offset, older ones,
 * old tombstones and keyless records go, the partition shrinks, the cleaned log reopens as it was (recovery accepts
 * the gaps), and a cleaning interrupted at either side of its commit point is rolled back or finished at open.
 */
class CleanerTest {
    private static final String NO_THREAD = "log.cleaner.enable=false";
    private static final Map<String, String> COMPACT = Map.of("cleanup.policy", "compact", "segment.ms", "1",
            "min.cleanable.dirty.ratio", "0.01", "delete.retention.ms", "100");
    private static final int KEYS = 20;

    @TempDir
    Path dir;

    /** Produces 40 batches of 10 records over {@link #KEYS} keys (each batch in its own segment); returns the expected latest values. */
    private static Map<String, String> fill(LogStorage s, TopicPartition tp, Harness.Clock clock) {
        Map<String, String> latest = new LinkedHashMap<>();
        int n = 0;
        for (int b = 0; b < 40; b++) {
            SimpleRecord[] records = new SimpleRecord[10];
            for (int i = 0; i < 10; i++, n++) {
                String key = "k" + (n * 7 % KEYS);
                boolean tombstone = n % 13 == 0;
                String value = tombstone ? null : "v" + n;
                records[i] = new SimpleRecord(clock.millis() - 1_000, key.getBytes(StandardCharsets.UTF_8),
                        value == null ? null : value.getBytes(StandardCharsets.UTF_8));
                latest.remove(key);
                latest.put(key, value);
            }
            await(s.produce(null, tp, KafkaBatches.segment(MemoryRecords.withRecords(Compression.NONE, records))));
            clock.advance(2); // segment.ms=1: the next append rolls
        }
        return latest;
    }

    /** Every record of the partition: offset -> key=value. */
    private static TreeMap<Long, String> read(LogStorage s, TopicPartition tp) throws Exception {
        TreeMap<Long, String> out = new TreeMap<>();
        long from = 0;
        while (true) {
            try (FetchResult r = await(s.fetch(tp, from, Integer.MAX_VALUE, true, IsolationLevel.READ_UNCOMMITTED))) {
                byte[] bytes = Batches.bytes(r);
                if (bytes.length == 0) return out;
                for (RecordBatch b : KafkaBatches.parse(bytes)) {
                    for (Record rec : b) {
                        out.put(rec.offset(), text(rec.key()) + "=" + (rec.hasValue() ? text(rec.value()) : "null"));
                    }
                    from = b.nextOffset();
                }
                if (from >= r.highWatermark()) return out;
            }
        }
    }

    private static String text(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    @Test
    void keepsTheLatestRecordPerKeyAtItsOffsetAndReopens() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        TopicPartition tp = new TopicPartition("c", 0);
        TreeMap<Long, String> before;
        TreeMap<Long, String> after;
        long sizeBefore;
        try (LogStorage s = Harness.open(dir, NO_THREAD, clock)) {
            Harness.topic(s, "c", 1, COMPACT);
            fill(s, tp, clock);
            before = read(s, tp);
            PartitionLog log = s.partitionLog(tp);
            sizeBefore = log.sizeInBytes();
            int segmentsBefore = log.segmentCount();
            clock.advance(10); // tombstones now older than delete.retention.ms (100 ms after their timestamps)
            s.cleaner().cleanAll();
            after = read(s, tp);
            // the active segment (the last batch) is never cleaned: its records stay even if superseded
            Map.Entry<Long, String>[] active = before.tailMap(390L).entrySet().toArray(new Map.Entry[0]);
            List<String> cleanedPart = new ArrayList<>(after.headMap(390L).values());
            List<String> expectCleaned = new ArrayList<>();
            for (var e : before.headMap(390L).entrySet()) {
                String key = e.getValue().substring(0, e.getValue().indexOf('='));
                long lastOffset = before.headMap(390L).entrySet().stream().filter(x -> x.getValue().startsWith(key + "="))
                        .mapToLong(Map.Entry::getKey).max().orElseThrow();
                if (lastOffset == e.getKey() && !e.getValue().endsWith("=null")) expectCleaned.add(e.getValue());
            }
            assertEquals(expectCleaned, cleanedPart, "each key's latest record below the active segment, tombstones gone");
            for (var e : after.entrySet()) assertEquals(before.get(e.getKey()), e.getValue(), "offset " + e.getKey() + " unchanged");
            assertEquals(active.length, after.tailMap(390L).size(), "the active segment untouched");
            assertTrue(log.sizeInBytes() < sizeBefore / 2, "shrank: " + log.sizeInBytes() + " of " + sizeBefore);
            assertTrue(log.segmentCount() < segmentsBefore, "small segments merged: " + log.segmentCount());
            assertEquals(400, log.highWatermark(), "the end offset stays");
        }
        try (LogStorage s = Harness.open(dir, NO_THREAD, clock)) {
            assertEquals(after, read(s, tp), "the cleaned log reopens as it was");
            assertEquals(400, s.partitionLog(tp).highWatermark());
            await(s.produce(null, tp, KafkaBatches.plain("more", 1, clock.millis())));
            assertEquals(401, s.partitionLog(tp).highWatermark(), "appends go on");
        }
    }

    @Test
    void anUnfinishedCleaningIsRolledBackAndACommittedSwapFinishedAtOpen() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        TopicPartition tp = new TopicPartition("c", 0);
        TreeMap<Long, String> before;
        Path partitionDir;
        try (LogStorage s = Harness.open(dir, NO_THREAD, clock)) {
            Harness.topic(s, "c", 1, COMPACT);
            fill(s, tp, clock);
            before = read(s, tp);
            partitionDir = s.partitionLog(tp).dir;
        }
        List<Path> logs;
        try (Stream<Path> files = Files.list(partitionDir)) {
            logs = files.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
        // before the commit point: a half-written .cleaned goes, the old segments stand
        Files.write(CleanerSwap.cleanedPath(partitionDir, 0), new byte[] {1, 2, 3});
        // after it: a swap holding the first two segments' batches replaces them (the second one already deleted)
        byte[] first = Files.readAllBytes(logs.get(0));
        byte[] second = Files.readAllBytes(logs.get(1));
        byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        Files.write(partitionDir.resolve(Segment.fileName(0, CleanerSwap.SWAP)), both);
        String second1 = logs.get(1).getFileName().toString();
        Segment.deleteFiles(partitionDir, Long.parseLong(second1.substring(0, second1.length() - 4))); // index first, as a crash leaves it
        try (LogStorage s = Harness.open(dir, NO_THREAD, clock)) {
            assertEquals(before, read(s, tp), "every record back, at its offset");
            assertEquals(before.size() / 10 - 1, s.partitionLog(tp).segmentCount(), "the two segments are one");
        }
        try (Stream<Path> files = Files.list(partitionDir)) {
            assertFalse(files.anyMatch(f -> f.toString().endsWith(CleanerSwap.CLEANED) || f.toString().endsWith(CleanerSwap.SWAP)));
        }
    }

    @Test
    void cleansOnItsOwnThreadAndRespectsTheDirtyRatio() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        TopicPartition tp = new TopicPartition("c", 0);
        long size;
        try (LogStorage s = Harness.open(dir, NO_THREAD, clock)) {
            Map<String, String> lazy = new java.util.HashMap<>(COMPACT);
            lazy.put("min.cleanable.dirty.ratio", "1.0"); // only when every byte is dirty: once
            Harness.topic(s, "c", 1, lazy);
            fill(s, tp, clock);
            size = s.partitionLog(tp).sizeInBytes();
        }
        try (LogStorage s = Harness.open(dir, "log.cleaner.backoff.ms=50", clock)) {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (s.cleaner().lastStats() == null && System.nanoTime() < deadline) s.cleaner().awaitRounds(1);
            Cleaner.Stats first = s.cleaner().lastStats();
            assertNotNull(first, "the cleaner thread cleaned");
            assertTrue(s.partitionLog(tp).sizeInBytes() < size);
            s.cleaner().awaitRounds(3);
            assertTrue(first == s.cleaner().lastStats(), "nothing dirty since: not cleaned again");
        }
    }

    @Test
    void compactAloneIsNotRetainedByTimeButCompactDeleteIs() {
        Harness.Clock clock = new Harness.Clock();
        try (LogStorage s = Harness.open(dir, NO_THREAD, clock)) {
            Map<String, String> compact = new java.util.HashMap<>(COMPACT);
            compact.put("retention.ms", "1");
            Harness.topic(s, "c", 1, compact);
            compact.put("cleanup.policy", "compact,delete");
            Harness.topic(s, "d", 1, compact);
            TopicPartition c = new TopicPartition("c", 0);
            TopicPartition d = new TopicPartition("d", 0);
            fill(s, c, clock);
            fill(s, d, clock);
            await(s.maintain(clock.millis()));
            assertEquals(40, s.partitionLog(c).segmentCount(), "compact only: every segment stays");
            assertEquals(1, s.partitionLog(d).segmentCount(), "compact,delete: old segments deleted by retention.ms");
        }
    }
}
