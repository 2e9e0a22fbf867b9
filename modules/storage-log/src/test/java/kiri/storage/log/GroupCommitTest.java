package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static kiri.storage.log.LogRecordsTest.fetchAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import kiri.testsupport.KafkaBatches;

class GroupCommitTest {
    @TempDir
    Path dir;

    /** always: group commit on the writer thread; never and interval: each producer thread writes its own appends. */
    @ParameterizedTest
    @ValueSource(strings = {"fsync=always", "fsync=never", "fsync=interval:2"})
    void concurrentProducersAreAllAcknowledgedWithContiguousOffsets(String params) throws Exception {
        int threads = 8;
        int perThread = 250;
        int partitions = 2;
        try (LogStorage s = Harness.open(dir, params, java.time.InstantSource.system())) {
            Harness.topic(s, "t", partitions, Map.of());
            ConcurrentLinkedQueue<long[]> acked = new ConcurrentLinkedQueue<>(); // {partition, base offset, records}
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> producers = new ArrayList<>();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                producers.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        List<CompletableFuture<Void>> inFlight = new ArrayList<>();
                        for (int i = 0; i < perThread; i++) {
                            int p = (id + i) % partitions;
                            int records = 1 + i % 3;
                            MemorySegment batch = KafkaBatches.plain("p" + id + "-" + i + "-", records, 1_000L);
                            // Up to 8 in flight per thread, like a pipelining producer.
                            inFlight.add(s.produce(null, new TopicPartition("t", p), batch).toCompletableFuture()
                                    .thenRun(() -> acked.add(new long[] {p, RecordBatch.baseOffset(batch), records})));
                            if (inFlight.size() == 8) {
                                for (CompletableFuture<Void> f : inFlight) f.join();
                                inFlight.clear();
                            }
                        }
                        for (CompletableFuture<Void> f : inFlight) f.join();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : producers) t.join();
            assertTrue(failures.isEmpty(), () -> "failures: " + failures);
            assertEquals(threads * perThread, acked.size());
            for (int p = 0; p < partitions; p++) {
                int partition = p;
                List<long[]> mine = acked.stream().filter(a -> a[0] == partition).sorted((a, b) -> Long.compare(a[1], b[1])).toList();
                long expected = 0;
                for (long[] a : mine) {
                    assertEquals(expected, a[1], "partition " + p + ": acknowledged batches tile the offsets");
                    expected += a[2];
                }
                TopicPartition tp = new TopicPartition("t", p);
                assertEquals(expected, await(s.offsets(tp)).highWatermark());
                List<Long> offsets = KafkaBatches.offsets(fetchAll(s, tp, 0));
                assertEquals(expected, offsets.size());
                for (int i = 0; i < offsets.size(); i++) assertEquals(i, offsets.get(i));
            }
            Writer w = s.writer();
            assertEquals(threads * perThread, w.appendsWritten.sum());
            // Not asserted (it depends on scheduling), but worth seeing: appends per force.
            System.out.printf("group commit: %d appends in %d forces%n", w.appendsWritten.sum(), w.forceRounds.sum());
        }
    }

    @Test
    void withoutFsyncTheProducingThreadWritesAndAcknowledges() throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        try (LogStorage s = Harness.open(dir, "fsync=never", new Harness.Clock())) {
            Harness.topic(s, "t");
            MemorySegment batch = KafkaBatches.plain("v", 5, 1_000L);
            CompletableFuture<Void> acked = s.produce(null, tp, batch).toCompletableFuture();
            assertTrue(acked.isDone() && !acked.isCompletedExceptionally(), "acknowledged on return, not by the writer thread");
            assertEquals(5, await(s.offsets(tp)).highWatermark());
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), KafkaBatches.offsets(fetchAll(s, tp, 0)));
            assertEquals(0, s.writer().forceRounds.sum(), "never forces while open");
        }
        try (LogStorage s = Harness.open(dir, "fsync=interval:1", new Harness.Clock())) {
            LogRecordsTest.produce(s, tp, KafkaBatches.plain(2));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (s.writer().forceRounds.sum() == 0 && System.nanoTime() < deadline) Thread.sleep(1);
            assertTrue(s.writer().forceRounds.sum() > 0, "the writer thread forces what producers wrote inline");
            assertEquals(7, await(s.offsets(tp)).highWatermark());
        }
    }

    /** What an event loop does: its appends are written as they come and synced, once, when its round ends. */
    @Test
    void aThreadThatEndsRoundsSyncsItsAppendsOncePerRound() throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        long end;
        try (LogStorage s = Harness.open(dir, "fsync=always", new Harness.Clock())) {
            Harness.topic(s, "t");
            s.endRound(); // from now on this thread's appends wait for its next endRound
            List<CompletableFuture<Void>> round = new ArrayList<>();
            for (int i = 0; i < 3; i++) round.add(s.produce(null, tp, KafkaBatches.plain("r" + i + "-", 2, 1_000L)).toCompletableFuture());
            for (CompletableFuture<Void> f : round) assertFalse(f.isDone(), "pending until the round ends");
            assertEquals(0, await(s.offsets(tp)).highWatermark(), "not visible before it is durable");
            long forces = s.writer().forceRounds.sum();
            s.endRound();
            for (CompletableFuture<Void> f : round) assertTrue(f.isDone() && !f.isCompletedExceptionally());
            assertEquals(forces + 1, s.writer().forceRounds.sum(), "one force for the round");
            assertEquals(6, await(s.offsets(tp)).highWatermark());

            // another thread's appends go through the writer thread; the round thread's next ones keep offset order
            CompletableFuture<Void> queued = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 20; i++) s.produce(null, tp, KafkaBatches.plain("q" + i + "-", 1, 1_000L)).toCompletableFuture().join();
            });
            List<CompletableFuture<Void>> mine = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                mine.add(s.produce(null, tp, KafkaBatches.plain("m-", 1, 1_000L)).toCompletableFuture());
                s.endRound();
            }
            queued.join();
            s.endRound();
            // those that found one of the other thread's appends still queued went to the writer thread behind it
            for (CompletableFuture<Void> f : mine) f.get(10, java.util.concurrent.TimeUnit.SECONDS);
            end = 6 + 20 + mine.size();
            assertEquals(end, await(s.offsets(tp)).highWatermark());
            assertEquals(java.util.stream.LongStream.range(0, end).boxed().toList(), KafkaBatches.offsets(fetchAll(s, tp, 0)));

            // a round left open when the engine closes is synced and acknowledged by the close
            CompletableFuture<Void> open = s.produce(null, tp, KafkaBatches.plain("last-", 1, 1_000L)).toCompletableFuture();
            assertFalse(open.isDone());
            s.close();
            assertTrue(open.isDone() && !open.isCompletedExceptionally());
        }
        try (LogStorage s = Harness.open(dir, "fsync=always", new Harness.Clock())) {
            assertEquals(end + 1, KafkaBatches.offsets(fetchAll(s, tp, 0)).size());
        }
    }

    /** Several event loops producing to one partition: each acknowledges at its own round's end, and readers never see the end go back. */
    @Test
    void roundsOfSeveralThreadsKeepTheHighWatermarkMovingUp() throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        int threads = 4;
        int perThread = 150;
        try (LogStorage s = Harness.open(dir, "fsync=always", new Harness.Clock())) {
            Harness.topic(s, "t");
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    long last = 0;
                    while (!done.get()) {
                        long hw = await(s.offsets(tp)).highWatermark();
                        if (hw < last) failures.add(new AssertionError("high watermark went back from " + last + " to " + hw));
                        last = hw;
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            List<Thread> loops = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                loops.add(Thread.ofPlatform().start(() -> {
                    try {
                        s.endRound();
                        for (int i = 0; i < perThread; i++) {
                            CompletableFuture<Void> f = s.produce(null, tp, KafkaBatches.plain("x", 1, 1_000L)).toCompletableFuture();
                            s.endRound();
                            f.get(10, java.util.concurrent.TimeUnit.SECONDS); // acknowledged by its own round's end (or the writer's)
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread t : loops) t.join();
            done.set(true);
            reader.join();
            assertTrue(failures.isEmpty(), () -> "failures: " + failures);
            assertEquals(threads * perThread, await(s.offsets(tp)).highWatermark());
            assertEquals(java.util.stream.LongStream.range(0, threads * perThread).boxed().toList(), KafkaBatches.offsets(fetchAll(s, tp, 0)));
        }
    }

    /** While an append waits in the writer thread's queue, a round thread's next append to that partition queues behind it. */
    @Test
    void aRoundThreadsAppendQueuesBehindOneTheWriterHasNotWritten() throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        try (LogStorage s = Harness.open(dir, "fsync=always", new Harness.Clock())) {
            Harness.topic(s, "t");
            PartitionLog log = s.partitionLog(tp);
            CompletableFuture<Void> queued;
            CompletableFuture<Void> behind;
            synchronized (log) { // the writer thread cannot write (it needs this monitor) until this block ends
                queued = s.produce(null, tp, KafkaBatches.plain("q-", 2, 1_000L)).toCompletableFuture(); // not a round thread yet
                s.endRound(); // now it is
                behind = s.produce(null, tp, KafkaBatches.plain("b-", 3, 1_000L)).toCompletableFuture();
                assertFalse(queued.isDone() || behind.isDone());
            }
            // both go through the writer thread, in offset order, without another endRound
            queued.get(10, java.util.concurrent.TimeUnit.SECONDS);
            behind.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), KafkaBatches.offsets(fetchAll(s, tp, 0)));
            // with nothing queued any more, this thread's appends wait for its round again
            CompletableFuture<Void> mine = s.produce(null, tp, KafkaBatches.plain("m-", 1, 1_000L)).toCompletableFuture();
            assertFalse(mine.isDone());
            s.endRound();
            assertTrue(mine.isDone() && !mine.isCompletedExceptionally());
            assertEquals(6, await(s.offsets(tp)).highWatermark());
        }
    }

    /** Two event loops ending rounds on one file: the second finds its appends covered by the first's force and skips its own. */
    @Test
    void aForceThatFindsItsAppendsCoveredIsSkipped() throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        try (LogStorage s = Harness.open(dir, "fsync=always", new Harness.Clock())) {
            Harness.topic(s, "t");
            s.endRound();
            CompletableFuture<Void> first = s.produce(null, tp, KafkaBatches.plain("a-", 2, 1_000L)).toCompletableFuture();
            Segment segment = LogRecordsTest.segmentsOf(s, tp).getLast();
            int before = segment.forcesMade();
            // another loop's round writes after this one and forces first: its force covers both appends
            CompletableFuture<Void> second = CompletableFuture.supplyAsync(() -> {
                s.endRound();
                CompletableFuture<Void> f = s.produce(null, tp, KafkaBatches.plain("b-", 1, 1_000L)).toCompletableFuture();
                s.endRound();
                return f;
            }).get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(second.isDone() && !second.isCompletedExceptionally());
            assertEquals(before + 1, segment.forcesMade());
            assertFalse(first.isDone(), "covered, but acknowledged only at its own round's end");
            s.endRound();
            assertTrue(first.isDone() && !first.isCompletedExceptionally());
            assertEquals(before + 1, segment.forcesMade(), "nothing appended since the last force: no second force");
            assertEquals(3, await(s.offsets(tp)).highWatermark());
        }
    }

    /** A retry of a batch a round has written but not yet forced, sent from another thread: acknowledged only after a force. */
    @Test
    void aRetriedBatchIsAcknowledgedOnlyOnceTheOriginalIsForced() throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        try (LogStorage s = Harness.open(dir, "fsync=always", new Harness.Clock())) {
            Harness.topic(s, "t");
            s.endRound();
            CompletableFuture<Void> original = s.produce(null, tp, KafkaBatches.idempotent(7L, (short) 0, 0, 3)).toCompletableFuture();
            Segment segment = LogRecordsTest.segmentsOf(s, tp).getLast();
            int before = segment.forcesMade();
            // the retry comes from a thread that does not end rounds: the writer thread acknowledges it
            CompletableFuture<Void> retry = CompletableFuture.supplyAsync(
                    () -> s.produce(null, tp, KafkaBatches.idempotent(7L, (short) 0, 0, 3)).toCompletableFuture()).get();
            retry.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(before + 1, segment.forcesMade(), "the retry's acknowledgement waited for a force of the original");
            assertFalse(original.isDone(), "the original itself completes at its round's end");
            s.endRound();
            assertTrue(original.isDone() && !original.isCompletedExceptionally());
            assertEquals(3, await(s.offsets(tp)).highWatermark());
        }
    }

    @Test
    void fsyncModesParse() {
        assertInstanceOf(FsyncMode.Always.class, FsyncMode.parse(null));
        assertInstanceOf(FsyncMode.Always.class, FsyncMode.parse("always"));
        assertInstanceOf(FsyncMode.Never.class, FsyncMode.parse("never"));
        assertEquals(new FsyncMode.Interval(250), FsyncMode.parse("interval:250"));
        for (String bad : List.of("", "sometimes", "interval:", "interval:0", "interval:-5", "interval:x", "ALWAYS")) {
            assertThrows(IllegalArgumentException.class, () -> FsyncMode.parse(bad), bad);
        }
    }

    @Test
    void theEngineIsFoundByItsScheme() {
        var found = kiri.storage.api.Storages.providers(ModuleLayer.boot());
        assertInstanceOf(LogStorageProvider.class, kiri.storage.api.Storages.provider("file", found));
        try (var s = kiri.storage.api.Storages.open("file:" + dir.resolve("a b") + "?fsync=never", new StorageContext(0, null, "localhost", 9092))) {
            assertTrue(s.describe().startsWith("file:" + dir.resolve("a b")), s.describe());
        }
        try (var s = kiri.storage.api.Storages.open("file://" + dir.resolve("c"), new StorageContext(0, null, "localhost", 9092))) {
            assertTrue(s.describe().contains("fsync=always"), s.describe());
        }
    }

    @Test
    void theProviderRefusesBadUrls() {
        LogStorageProvider provider = new LogStorageProvider();
        assertEquals("file", provider.scheme());
        StorageContext ctx = new StorageContext(0, null, "localhost", 9092);
        for (String bad : List.of("file:", "file:" + dir + "?fsync=often", "file:" + dir + "?fsinc=never")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> provider.open(StorageUrl.parse(bad), ctx));
            assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"fsync=always", "fsync=never", "fsync=interval:5"})
    void everyModeKeepsAcknowledgedBatchesAcrossACleanRestart(String params) throws Exception {
        TopicPartition tp = new TopicPartition("t", 0);
        try (LogStorage s = Harness.open(dir, params, new Harness.Clock())) {
            assertTrue(s.describe().contains(params), s.describe());
            Harness.topic(s, "t");
            for (int i = 0; i < 20; i++) LogRecordsTest.produce(s, tp, KafkaBatches.plain(3));
        }
        try (LogStorage s = Harness.open(dir, params, new Harness.Clock())) {
            assertEquals(60, KafkaBatches.offsets(fetchAll(s, tp, 0)).size());
        }
    }
}
