package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static kiri.storage.log.LogRecordsTest.fetchAll;
import static kiri.storage.log.LogRecordsTest.produce;
import static kiri.storage.log.LogRecordsTest.segmentsOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The zone of written zeros ahead of the active segment's end: invisible to readers, trimmed on roll and close, stopped at by recovery. */
class PreallocationTest {
    static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    /** Produces {@code count} batches; returns them as stored (offsets assigned in place), back to back. */
    private static byte[] produceBatches(LogStorage s, int from, int count) {
        ByteArrayOutputStream stored = new ByteArrayOutputStream();
        for (int i = from; i < from + count; i++) {
            MemorySegment b = KafkaBatches.plain("r" + i + "-", 3, 1_000L + i);
            produce(s, TP, b);
            stored.writeBytes(b.toArray(ValueLayout.JAVA_BYTE));
        }
        return stored.toByteArray();
    }

    private static boolean allZero(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) if (bytes[i] != 0) return false;
        return true;
    }

    @Test
    void theActiveSegmentHasZerosAheadThatReadersNeverSee() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            byte[] stored = produceBatches(s, 0, 20);
            Segment active = segmentsOf(s, TP).getLast();
            byte[] file = Files.readAllBytes(active.logPath);
            assertEquals(stored.length, active.size);
            assertTrue(file.length >= 2L * stored.length, "zeros ahead, as many as the batches hold: " + file.length);
            assertTrue(file.length <= stored.length + Math.max(stored.length, Segment.MIN_ZERO_ZONE_CHUNK),
                    "a small partition holds few zeros: " + file.length);
            assertArrayEquals(stored, Arrays.copyOf(file, stored.length));
            assertTrue(allZero(file, stored.length));
            assertArrayEquals(stored, fetchAll(s, TP, 0));
            assertEquals(Map.of(TP, (long) stored.length), await(s.partitionSizes()));
        }
    }

    @Test
    void theZoneGrowsWithTheSegmentUpToItsLargestChunk() throws Exception {
        // fsync=never only to be quick: the zone does not depend on the mode once asked for
        try (LogStorage s = Harness.open(dir, "fsync=never&preallocate=true", new Harness.Clock())) {
            Harness.topic(s, "t");
            produceBatches(s, 0, 1);
            Segment active = segmentsOf(s, TP).getLast();
            assertEquals(active.size + Segment.MIN_ZERO_ZONE_CHUNK, Files.size(active.logPath), "a small first zone");
            long maxZeros = 0;
            for (int i = 0; active.size < 3L * Segment.ZERO_ZONE_CHUNK; i++) {
                produce(s, TP, KafkaBatches.plain("record-" + i + "-", 400, 1_000L + i));
                maxZeros = Math.max(maxZeros, Files.size(active.logPath) - active.size);
            }
            assertTrue(maxZeros <= Segment.ZERO_ZONE_CHUNK, "never more than the largest chunk ahead: " + maxZeros);
            assertTrue(maxZeros > Segment.ZERO_ZONE_CHUNK / 2, "chunks grew with the segment: " + maxZeros);
        }
    }

    @Test
    void theZoneStopsAtSegmentBytes() throws Exception {
        int segmentBytes = 1 << 20;
        try (LogStorage s = Harness.open(dir, "fsync=never&preallocate=true", new Harness.Clock())) {
            Harness.topic(s, "t", 1, Map.of("segment.bytes", Integer.toString(segmentBytes)));
            long largest = 0;
            for (int i = 0; segmentsOf(s, TP).size() == 1; i++) {
                produce(s, TP, KafkaBatches.plain("record-" + i + "-", 400, 1_000L + i));
                largest = Math.max(largest, Files.size(segmentsOf(s, TP).getFirst().logPath));
            }
            assertEquals(segmentBytes, largest, "the zone grew up to the roll size, not past it");
        }
    }

    @Test
    void rollAndCleanCloseLeaveFilesExactlyTheirBatches() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        List<Segment> segments;
        byte[] first;
        byte[] second;
        try (LogStorage s = Harness.open(dir, "", clock)) {
            Harness.topic(s, "t", 1, Map.of("segment.ms", "1000"));
            first = produceBatches(s, 0, 10);
            clock.advance(2_000);
            second = produceBatches(s, 10, 10); // rolls before the 11th batch
            segments = segmentsOf(s, TP);
            assertEquals(2, segments.size());
            assertEquals(first.length, Files.size(segments.getFirst().logPath), "the sealed segment was trimmed");
            assertTrue(Files.size(segments.getLast().logPath) > segments.getLast().size, "the active one has its zone");
        }
        for (Segment seg : segments) assertEquals(seg.size, Files.size(seg.logPath), "trimmed on close: " + seg.logPath);
        try (LogStorage s = Harness.open(dir, "", clock)) {
            assertEquals(0, s.partitionLog(TP).truncatedBytes, "a clean close left nothing to cut");
            assertArrayEquals(first, fetchAll(s, TP, 0)); // a fetch reads one segment
            assertArrayEquals(second, fetchAll(s, TP, 10 * 3));
            Segment active = segmentsOf(s, TP).getLast();
            assertEquals(active.size, Files.size(active.logPath));
            produceBatches(s, 20, 1);
            assertTrue(Files.size(active.logPath) > active.size, "the first append after a restart writes a zone again");
        }
    }

    /** A copy taken while the engine is open is what a SIGKILL leaves: the zone is on disk, nothing trimmed it. */
    @Test
    void afterAnUncleanStopRecoveryEndsTheLogWhereTheZerosBegin() throws Exception {
        Path copy = dir.resolve("copy");
        byte[] stored;
        try (LogStorage s = Harness.open(dir.resolve("live"))) {
            Harness.topic(s, "t");
            stored = produceBatches(s, 0, 25);
            copyTree(dir.resolve("live"), copy);
        }
        try (LogStorage s = Harness.open(copy)) {
            PartitionLog p = s.partitionLog(TP);
            assertTrue(p.truncatedBytes > 0, "the zeros were cut off: " + p.truncatedBytes);
            Segment active = segmentsOf(s, TP).getLast();
            assertEquals(stored.length, Files.size(active.logPath));
            assertEquals(25 * 3, await(s.offsets(TP)).highWatermark());
            assertArrayEquals(stored, fetchAll(s, TP, 0));
            List<Long> offsets = KafkaBatches.offsets(fetchAll(s, TP, 0));
            for (int i = 0; i < offsets.size(); i++) assertEquals(i, offsets.get(i), "contiguous");
            assertEquals(25 * 3, produce(s, TP, KafkaBatches.plain(2)), "the next append lands right after them");
            assertEquals(25 * 3 + 2, KafkaBatches.offsets(fetchAll(s, TP, 0)).size());
        }
    }

    @Test
    void preallocateFalseWritesNoZeros() throws Exception {
        try (LogStorage s = Harness.open(dir, "preallocate=false", new Harness.Clock())) {
            Harness.topic(s, "t");
            byte[] stored = produceBatches(s, 0, 20);
            Segment active = segmentsOf(s, TP).getLast();
            assertEquals(stored.length, Files.size(active.logPath));
            assertArrayEquals(stored, fetchAll(s, TP, 0));
            assertTrue(s.describe().contains("preallocate=false"), s.describe());
        }
    }

    @Test
    void fsyncNeverDoesNotPreallocateUnlessAsked() throws Exception {
        try (LogStorage s = Harness.open(dir, "fsync=never", new Harness.Clock())) {
            Harness.topic(s, "t");
            byte[] stored = produceBatches(s, 0, 20);
            assertEquals(stored.length, Files.size(segmentsOf(s, TP).getLast().logPath), "no forces, no zeros");
        }
        try (LogStorage s = Harness.open(dir.resolve("asked"), "fsync=never&preallocate=true", new Harness.Clock())) {
            Harness.topic(s, "t");
            byte[] stored = produceBatches(s, 0, 20);
            assertTrue(Files.size(segmentsOf(s, TP).getLast().logPath) > stored.length, "asked for zeros, got them");
        }
    }

    @Test
    void aBadPreallocateValueIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LogStorageProvider().open(
                StorageUrl.parse("file:" + dir + "?preallocate=yes"), new StorageContext(0, null, "localhost", 9092)));
        assertEquals("preallocate=yes is not one of true, false", e.getMessage());
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
