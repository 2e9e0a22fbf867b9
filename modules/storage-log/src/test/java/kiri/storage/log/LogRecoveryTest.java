package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static kiri.storage.log.Harness.errorOf;
import static kiri.storage.log.LogRecordsTest.fetchAll;
import static kiri.storage.log.LogRecordsTest.produce;
import static kiri.storage.log.LogRecordsTest.segmentsOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import kiri.protocol.ErrorCode;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import kiri.testsupport.KafkaBatches;

class LogRecoveryTest {
    static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    @Test
    void restartOnTheSameDirectoryKeepsEverything() throws Exception {
        TopicPartition other = new TopicPartition("u", 2);
        TopicInfo t;
        TopicInfo u;
        String clusterId;
        ProducerIdAndEpoch idempotent;
        ProducerIdAndEpoch txn;
        GroupState group;
        try (LogStorage s = Harness.open(dir)) {
            clusterId = s.clusterId();
            t = Harness.topic(s, "t");
            u = Harness.topic(s, "u", 3, Map.of("retention.ms", "123456"));
            idempotent = await(s.initProducerId(null, 60_000, ProducerIdAndEpoch.NONE));
            produce(s, TP, KafkaBatches.plain("a", 2, 1_000));
            produce(s, TP, KafkaBatches.idempotent(idempotent.producerId(), idempotent.epoch(), 0, 3));
            produce(s, other, KafkaBatches.plain("b", 4, 1_000));
            await(s.deleteRecords(other, 1));
            await(s.commitOffsets("g", List.of(new OffsetCommit(TP, 4, 0, "meta", -1L), new OffsetCommit(other, 2))));
            group = await(s.updateGroup(new GroupState("g", "classic", "consumer", "Empty", new byte[] {1, 2, 3}, GroupState.NO_VERSION)));
            txn = await(s.initProducerId("tx", 30_000, ProducerIdAndEpoch.NONE));
            await(s.addPartitionsToTxn("tx", txn, List.of(other)));
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(clusterId, s.clusterId());
            assertEquals(List.of(t, u), Harness.topics(s));
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), KafkaBatches.offsets(fetchAll(s, TP, 0)));
            assertEquals(5, await(s.offsets(TP)).highWatermark());
            assertEquals(1, await(s.offsets(other)).logStartOffset());
            assertEquals(4, await(s.offsets(other)).highWatermark());
            Map<TopicPartition, CommittedOffset> committed = await(s.fetchOffsets("g", null, false));
            assertEquals(2, committed.size());
            assertEquals(4, committed.get(TP).offset());
            assertEquals("meta", committed.get(TP).metadata());
            Optional<GroupState> g = await(s.group("g"));
            assertEquals(group.version(), g.orElseThrow().version());
            assertEquals(List.of(1, 2, 3), List.of(g.get().data()[0] + 0, g.get().data()[1] + 0, g.get().data()[2] + 0));
            // The compare-and-set continues from the stored version.
            assertTrue(await(s.updateGroup(g.get())).version() > group.version());
            // Producer state was rebuilt from the batch headers: a retry is recognised, a gap refused.
            MemorySegment retry = KafkaBatches.idempotent(idempotent.producerId(), idempotent.epoch(), 0, 3);
            assertEquals(2, produce(s, TP, retry));
            assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER.code(),
                    errorOf(s.produce(null, TP, KafkaBatches.idempotent(idempotent.producerId(), idempotent.epoch(), 7, 1))));
            assertEquals(5, produce(s, TP, KafkaBatches.idempotent(idempotent.producerId(), idempotent.epoch(), 3, 1)));
            // Producer ids are never handed out twice.
            ProducerIdAndEpoch fresh = await(s.initProducerId(null, 60_000, ProducerIdAndEpoch.NONE));
            assertTrue(fresh.producerId() > Math.max(idempotent.producerId(), txn.producerId()), fresh + " after " + txn);
            List<TransactionDescription> txns = await(s.describeTransactions(List.of("tx")));
            assertEquals(1, txns.size());
            assertEquals(TransactionState.ONGOING, txns.getFirst().state());
            assertEquals(txn.producerId(), txns.getFirst().producerId());
            assertEquals(java.util.Set.of(other), txns.getFirst().partitions());
        }
    }

    @Test
    void transactionsSurviveARestart() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        TopicPartition tp1 = new TopicPartition("t", 1);
        ProducerIdAndEpoch committed;
        ProducerIdAndEpoch open;
        try (LogStorage s = Harness.open(dir, "", clock)) {
            Harness.topic(s, "t", 2, Map.of());
            committed = await(s.initProducerId("done", 60_000, ProducerIdAndEpoch.NONE));
            await(s.produce("done", TP, KafkaBatches.transactional(committed.producerId(), committed.epoch(), 0, 2)));
            await(s.txnOffsetCommit("done", committed, "g", List.of(new OffsetCommit(TP, 2))));
            await(s.endTxn("done", committed, true, false));
            open = await(s.initProducerId("open", 60_000, ProducerIdAndEpoch.NONE));
            // Joins tp1 through the produce alone (transaction version 2): the transaction record does not list it yet.
            await(s.produce("open", tp1, KafkaBatches.transactional(open.producerId(), open.epoch(), 0, 3)));
            assertEquals(0, await(s.offsets(tp1)).lastStableOffset());
        }
        try (LogStorage s = Harness.open(dir, "", clock)) {
            assertEquals(3, await(s.offsets(TP)).lastStableOffset());
            assertEquals(2, await(s.fetchOffsets("g", null, true)).get(TP).offset());
            assertEquals(0, await(s.offsets(tp1)).lastStableOffset(), "the open transaction still bounds the LSO");
            TransactionDescription d = await(s.describeTransactions(List.of("open"))).getFirst();
            assertEquals(TransactionState.ONGOING, d.state());
            assertEquals(java.util.Set.of(tp1), d.partitions(), "recovery adopted the partition");
            clock.advance(60_001);
            await(s.maintain(clock.millis())); // the timeout aborts it
            assertEquals(4, await(s.offsets(tp1)).lastStableOffset());
            try (var r = await(s.fetch(tp1, 0, 10_000, true, IsolationLevel.READ_COMMITTED))) {
                assertEquals(List.of(new kiri.storage.api.AbortedTransaction(open.producerId(), 0)), r.abortedTransactions());
            }
            assertEquals(TransactionState.COMPLETE_ABORT, await(s.describeTransactions(List.of("open"))).getFirst().state());
        }
        try (LogStorage s = Harness.open(dir, "", clock)) {
            assertEquals(4, await(s.offsets(tp1)).lastStableOffset());
            TransactionDescription d = await(s.describeTransactions(List.of("open"))).getFirst();
            assertEquals(TransactionState.COMPLETE_ABORT, d.state());
            assertEquals(open.epoch() + 1, d.producerEpoch(), "the timeout's epoch bump is kept");
        }
    }

    @Test
    void deletedTopicsStayDeleted() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            produce(s, TP, KafkaBatches.plain(1));
            await(s.commitOffsets("g", List.of(new OffsetCommit(TP, 1))));
            await(s.deleteTopic(kiri.storage.api.TopicRef.of("t")));
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(List.of(), Harness.topics(s));
            assertEquals(Map.of(), await(s.fetchOffsets("g", null, false)));
            try (var entries = Files.list(dir.resolve("data"))) {
                assertEquals(0, entries.count());
            }
        }
    }

    /** Sizes of the batches written, in order. */
    private List<Long> produceBatches(LogStorage s, int count) {
        List<Long> sizes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            MemorySegment b = KafkaBatches.plain("r" + i + "-", 2, 1_000L + i);
            sizes.add(b.byteSize());
            produce(s, TP, b);
        }
        return sizes;
    }

    private Path activeLog() {
        try (var dirs = Files.list(dir.resolve("data"))) {
            Path p = dirs.findFirst().orElseThrow();
            try (var files = Files.list(p)) {
                return files.filter(f -> f.toString().endsWith(".log")).sorted().toList().getLast();
            }
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aTornTailIsTruncatedToTheValidPrefix() throws Exception {
        List<Long> sizes;
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            sizes = produceBatches(s, 5);
        }
        long keep = sizes.get(0) + sizes.get(1) + sizes.get(2);
        try (RandomAccessFile f = new RandomAccessFile(activeLog().toFile(), "rw")) {
            f.setLength(keep + sizes.get(3) / 2); // the 4th batch torn in the middle, the 5th gone
        }
        Files.delete(dir.resolve(CleanShutdown.FILE)); // as a crash leaves it: a torn tail is only possible then
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(6, await(s.offsets(TP)).highWatermark());
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), KafkaBatches.offsets(fetchAll(s, TP, 0)));
            assertEquals(sizes.get(3) / 2, s.partitionLog(TP).truncatedBytes);
            assertEquals(keep, Files.size(activeLog()));
            assertEquals(6, produce(s, TP, KafkaBatches.plain(1))); // appends continue right after the valid prefix
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(0, s.partitionLog(TP).truncatedBytes);
            assertEquals(7, KafkaBatches.offsets(fetchAll(s, TP, 0)).size());
        }
    }

    /** Finding 3 of issue 15: one flipped bit mid-segment used to drop every record after it, silently. */
    @Test
    void aFlippedBitMidSegmentNeverDropsTheRecordsAfterIt() throws Exception {
        List<Long> sizes;
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            sizes = produceBatches(s, 5);
        }
        long third = sizes.get(0) + sizes.get(1);
        long logSize = Files.size(activeLog());
        flip(activeLog(), third + RecordBatch.HEADER_SIZE + 3); // a byte of the 3rd batch's first record
        // After a clean shutdown nothing is scanned: every record is still served, the damaged batch as stored
        // (a consumer's CRC check reports it), none dropped.
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(10, await(s.offsets(TP)).highWatermark());
            assertEquals(logSize, fetchAll(s, TP, 0).length);
        }
        // After a crash the active segment is CRC-checked: a bad batch with intact ones after it is damage, not a torn
        // tail, and the open refuses, naming the file, the byte, the offset and the way to accept the loss.
        Files.delete(dir.resolve(CleanShutdown.FILE));
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir));
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), e.errorCode());
        String rel = dir.relativize(activeLog()).toString();
        assertTrue(e.getMessage().startsWith("cannot open file:" + dir + ": partition t-0: " + rel + " is damaged at byte "
                + third + " (offset 4): a CRC mismatch; 4 records in 2 intact batches follow it"), e.getMessage());
        assertTrue(e.getMessage().contains("?recover=truncate"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertEquals(logSize, Files.size(activeLog()), "nothing was changed");
        assertThrows(StorageException.class, () -> Harness.open(dir), "and it refuses again, the same way");
        // The operator accepts the loss: the log is cut at the damage, and offsets go on after the highest one seen.
        try (LogStorage s = Harness.open(dir, "recover=truncate", new Harness.Clock())) {
            assertEquals(List.of(0L, 1L, 2L, 3L), KafkaBatches.offsets(fetchAll(s, TP, 0)));
            assertEquals(10, await(s.offsets(TP)).highWatermark());
            assertEquals(sizes.get(2) + sizes.get(3) + sizes.get(4), s.partitionLog(TP).truncatedBytes);
            assertEquals(10, produce(s, TP, KafkaBatches.plain(1)), "no offset is handed out twice");
        }
        try (LogStorage s = Harness.open(dir)) { // the accepted gap stays accepted
            assertEquals(List.of(0L, 1L, 2L, 3L, 10L), allOffsets(s, TP, 0));
            assertEquals(List.of(10L), allOffsets(s, TP, 5));
        }
    }

    /** Every offset from {@code from} up to the high watermark, fetch after fetch (one fetch reads one segment). */
    static List<Long> allOffsets(LogStorage s, TopicPartition tp, long from) throws Exception {
        List<Long> out = new ArrayList<>();
        long hwm = await(s.offsets(tp)).highWatermark();
        while (from < hwm) {
            List<Long> got = KafkaBatches.offsets(fetchAll(s, tp, from));
            if (got.isEmpty()) break;
            for (long o : got) if (o >= from) out.add(o);
            from = got.getLast() + 1;
        }
        return out;
    }

    static void flip(Path file, long at) throws java.io.IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x5A);
        }
    }

    /** Finding 3: a missing middle segment used to drop every later segment, and new produces reused their offsets. */
    @Test
    void aMissingMiddleSegmentIsRefusedAndNeverCostsTheLaterOnes() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        try (LogStorage s = Harness.open(dir, "", clock)) {
            Harness.topic(s, "t", 1, Map.of("segment.ms", "1000"));
            for (int seg = 0; seg < 4; seg++) {
                produceBatches(s, 3); // 6 offsets per segment
                clock.advance(2_000);
            }
            assertEquals(4, segmentsOf(s, TP).size());
        }
        Path partition = activeLog().getParent();
        Files.delete(partition.resolve(Segment.fileName(6, ".log")));
        for (boolean clean : new boolean[] {true, false}) {
            if (!clean) Files.deleteIfExists(dir.resolve(CleanShutdown.FILE));
            StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir, "", clock));
            assertTrue(e.getMessage().contains(dir.relativize(partition.resolve(Segment.fileName(6, ".log"))) + " is missing"),
                    e.getMessage());
        }
        try (LogStorage s = Harness.open(dir, "recover=truncate", clock)) {
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L, 20L, 21L, 22L, 23L),
                    allOffsets(s, TP, 0));
            assertEquals(24, produce(s, TP, KafkaBatches.plain(1)));
        }
        try (LogStorage s = Harness.open(dir, "", clock)) { // accepted once, for good
            assertEquals(25, await(s.offsets(TP)).highWatermark());
        }
        // Without index files left behind, the gap between the segments tells.
        Files.delete(partition.resolve(Segment.fileName(12, ".log")));
        Files.delete(partition.resolve(Segment.fileName(12, ".index")));
        Files.delete(partition.resolve(Segment.fileName(12, ".timeindex")));
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir, "", clock));
        assertTrue(e.getMessage().contains("offsets 6 to 17 are missing"), e.getMessage());
    }

    @Test
    void aSealedSegmentThatLostItsTailIsRefusedOrKeptWithItsGap() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        long lastSize;
        try (LogStorage s = Harness.open(dir, "", clock)) {
            Harness.topic(s, "t", 1, Map.of("segment.ms", "1000"));
            produceBatches(s, 2);
            MemorySegment last = KafkaBatches.plain(2);
            lastSize = last.byteSize();
            produce(s, TP, last);
            clock.advance(2_000);
            produce(s, TP, KafkaBatches.plain(2)); // offsets 6-7 in a second segment
            assertEquals(2, segmentsOf(s, TP).size());
        }
        Path first;
        try (var dirs = Files.list(dir.resolve("data"))) {
            first = dirs.findFirst().orElseThrow().resolve(Segment.fileName(0, ".log"));
        }
        try (RandomAccessFile f = new RandomAccessFile(first.toFile(), "rw")) {
            f.setLength(f.length() - lastSize); // the first segment's last batch (offsets 4-5) lost at a batch boundary
        }
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir, "", clock));
        assertTrue(e.getMessage().contains("offsets 4 to 5 are missing"), e.getMessage());
        try (LogStorage s = Harness.open(dir, "recover=truncate", clock)) {
            assertEquals(8, await(s.offsets(TP)).highWatermark());
            assertEquals(List.of(0L, 1L, 2L, 3L, 6L, 7L), allOffsets(s, TP, 0));
            assertEquals(8, produce(s, TP, KafkaBatches.plain(1)));
        }
    }

    @Test
    void aZeroFilledTailIsTruncated() throws Exception {
        long size;
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            produceBatches(s, 3);
        }
        size = Files.size(activeLog());
        try (RandomAccessFile f = new RandomAccessFile(activeLog().toFile(), "rw")) {
            f.setLength(size + 4096); // what a file system can show after a crash: length grew, data did not
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(6, await(s.offsets(TP)).highWatermark());
            assertEquals(size, Files.size(activeLog()));
        }
    }

    @Test
    void indexesThatDisagreeWithTheLogAreRebuilt() throws Exception {
        Harness.Clock clock = new Harness.Clock();
        try (LogStorage s = Harness.open(dir, "", clock)) {
            Harness.topic(s, "t", 1, Map.of("segment.ms", "1000"));
            for (int i = 0; i < 200; i++) produce(s, TP, KafkaBatches.plain("x", 2, 10_000L + 10L * i));
            clock.advance(2_000);
            for (int i = 200; i < 400; i++) produce(s, TP, KafkaBatches.plain("x", 2, 10_000L + 10L * i));
            List<Segment> segs = segmentsOf(s, TP);
            assertEquals(2, segs.size());
            Segment sealed = segs.getFirst();
            assertTrue(sealed.isSealed() && !segs.getLast().isSealed());
            assertTrue(sealed.indexEntries() > 0);
            // Rolling trimmed the sealed segment's indexes to their entries.
            assertEquals(sealed.indexEntries() * (long) Segment.OFFSET_ENTRY, Files.size(sealed.indexPath));
            assertEquals(sealed.timeIndexEntries() * (long) Segment.TIME_ENTRY, Files.size(sealed.timeIndexPath));
        }
        try (LogStorage s = Harness.open(dir, "", clock)) {
            assertFalse(s.partitionLog(TP).indexRebuilt, "a clean log's indexes are kept as they are");
            assertTrue(segmentsOf(s, TP).getFirst().isSealed());
        }
        Path partitionDir;
        try (var dirs = Files.list(dir.resolve("data"))) {
            partitionDir = dirs.findFirst().orElseThrow();
        }
        // Scribble over both indexes of the sealed segment and the offset index of the active one.
        for (String name : List.of(Segment.fileName(0, ".index"), Segment.fileName(0, ".timeindex"), Segment.fileName(400, ".index"))) {
            try (RandomAccessFile f = new RandomAccessFile(partitionDir.resolve(name).toFile(), "rw")) {
                f.seek(8);
                f.write(new byte[] {0x7F, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
            }
        }
        try (LogStorage s = Harness.open(dir, "", clock)) {
            assertTrue(s.partitionLog(TP).indexRebuilt);
            for (long offset = 0; offset < 800; offset += 13) {
                assertEquals(offset - offset % 2, KafkaBatches.offsets(fetchAll(s, TP, offset)).getFirst(), "fetch at " + offset);
            }
            for (int i = 0; i < 400; i += 17) {
                assertEquals(2L * i, await(s.listOffset(TP, 10_000L + 10L * i, IsolationLevel.READ_UNCOMMITTED)).offset());
            }
        }
    }

    @Test
    void aDirectoryIsOpenedByOneEngineAndKeepsItsClusterId() {
        try (LogStorage s = Harness.open(dir)) {
            StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir));
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), e.errorCode());
        }
        StorageException e = assertThrows(StorageException.class, () -> new LogStorageProvider().open(
                StorageUrl.parse("file:" + dir), new StorageContext(0, "another-cluster", "localhost", 9092)));
        assertEquals(ErrorCode.INCONSISTENT_CLUSTER_ID.code(), e.errorCode());
    }

    /**
     * Clean shutdown and lazy partitions: the marker's verdict is taken at open. A partition whose directory was lost
     * while the broker was down is refused at open even though it holds nothing to open; once the loss is accepted it
     * is an empty partition that the next open leaves unopened, and its recorded end offset still goes into the next
     * marker, so losing it again is noticed again rather than its offsets starting over at 0.
     */
    @Test
    void aPartitionLostWhileDownIsNoticedAtOpenEvenWhenItWouldOpenLazily() throws Exception {
        TopicPartition idle = new TopicPartition("t", 1);
        Path lost;
        try (LogStorage s = Harness.open(dir)) {
            TopicInfo t = Harness.topic(s, "t", 2, Map.of());
            lost = dir.resolve("data").resolve(KafkaUuid.toString(t.id()) + "-1");
            produce(s, TP, KafkaBatches.plain("a", 3, 1_000L));
            produce(s, idle, KafkaBatches.plain("b", 2, 1_000L));
        }
        for (int round = 0; round < 2; round++) {
            AtomicFiles.deleteRecursively(lost);
            StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir));
            assertTrue(e.getMessage().contains("partition t-1: the log ends at offset 0 but ended at 2 at the last clean shutdown"),
                    e.getMessage());
            assertFalse(Files.exists(lost), "nothing was changed");
            try (LogStorage s = Harness.open(dir, "recover=truncate", new Harness.Clock())) {
                assertEquals(2, await(s.offsets(idle)).highWatermark(), "offsets go on after the lost ones");
            }
            // Now empty, the partition is left for its first use; its recorded end is carried into the next marker,
            // so the second round notices the loss again.
            try (LogStorage s = Harness.open(dir)) {
                assertTrue(s.isOpen(TP), "a partition with data is recovered at open");
                assertFalse(s.isOpen(idle), "an empty one is left for its first use");
            }
        }
        try (LogStorage s = Harness.open(dir)) {
            assertFalse(s.isOpen(idle));
            assertEquals(2, produce(s, idle, KafkaBatches.plain(1)), "opened on first use, it goes on at its end");
        }
        try (LogStorage s = Harness.open(dir)) {
            assertTrue(s.isOpen(idle), "it holds data now");
            assertEquals(List.of(2L), KafkaBatches.offsets(fetchAll(s, idle, 2)));
        }
    }
}
