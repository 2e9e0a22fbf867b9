package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.StorageUrl;
import kiri.storage.compaction.BatchCleaner;
import kiri.storage.compaction.CompactionConfig;
import kiri.storage.compaction.GapBatches;
import kiri.storage.compaction.OffsetMap;
import kiri.storage.compaction.Throttler;

/**
 * The {@code file:} engine's log cleaner: one platform thread ({@code kiri-log-cleaner}, never an event loop) that
 * every {@code log.cleaner.backoff.ms} looks at each open partition of a topic with {@code cleanup.policy} compact
 * and cleans it when due ({@link CompactionConfig#due}).
 *
 * <p>What it may touch: the sealed segments from the first one up to, not including, the first that reaches the last
 * stable offset (open transactions) or holds a record newer than {@code min.compaction.lag.ms}; never the active
 * segment. It reads them twice ({@link BatchCleaner}: keys, then what to keep), writes each run of consecutive
 * segments that fits in {@code segment.bytes} as one {@code .cleaned} file (each run of dropped batches as one empty
 * {@link GapBatches gap batch}, so offsets stay contiguous), and swaps it in ({@link CleanerSwap}, crash-safe). Reads and writes together are bounded by {@code log.cleaner.io.max.bytes.per.second}. The dirty
 * position (where the last cleaning ended) is kept in memory: after a restart everything counts as dirty once.
 */
final class Cleaner implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Cleaner.class.getName());
    private static final int WRITE_BUFFER = 1 << 20;

    /** Kafka's broker settings for the cleaner (as {@code file:} URL parameters). */
    record Settings(boolean enabled, long backoffMs, double ioMaxBytesPerSecond, long dedupeBufferBytes) {
        static final Settings DEFAULT = new Settings(true, 15_000, Double.MAX_VALUE, 128L << 20);
        static final String ENABLE = "log.cleaner.enable";
        static final String BACKOFF_MS = "log.cleaner.backoff.ms";
        static final String IO_MAX_BYTES_PER_SECOND = "log.cleaner.io.max.bytes.per.second";
        static final String DEDUPE_BUFFER_SIZE = "log.cleaner.dedupe.buffer.size";

        /** From {@code file:} URL parameters named as Kafka's broker settings; Kafka's defaults otherwise. */
        static Settings of(StorageUrl url) {
            String enable = url.param(ENABLE, "true");
            if (!enable.equals("true") && !enable.equals("false")) {
                throw new IllegalArgumentException(ENABLE + "=" + enable + " is not one of true, false");
            }
            try {
                return new Settings(enable.equals("true"),
                        Long.parseLong(url.param(BACKOFF_MS, Long.toString(DEFAULT.backoffMs()))),
                        Double.parseDouble(url.param(IO_MAX_BYTES_PER_SECOND, Double.toString(DEFAULT.ioMaxBytesPerSecond()))),
                        Long.parseLong(url.param(DEDUPE_BUFFER_SIZE, Long.toString(DEFAULT.dedupeBufferBytes()))));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("a log.cleaner.* parameter of " + url + " is not a number: " + e.getMessage());
            }
        }

        /** Key-map entries the dedupe buffer holds (24 bytes a slot, at most half full). */
        int maxKeys() {
            return (int) Math.min(Integer.MAX_VALUE / 6, Math.max(1024, dedupeBufferBytes / 48));
        }
    }

    /** What one cleaning did, for logs, tests and the bench. */
    record Stats(long bytesRead, long bytesWritten, long recordsRead, long recordsKept, long nanos) {
        /** One line for the broker's log (bench/compaction.sh reads its MB/s). */
        String describe() {
            double seconds = nanos / 1e9;
            return String.format(java.util.Locale.ROOT, "cleaned: %.1f MB read, %.1f MB written, %d of %d records kept,"
                    + " in %.2f s (%.1f MB/s read)", bytesRead / 1e6, bytesWritten / 1e6, recordsKept, recordsRead, seconds,
                    bytesRead / 1e6 / Math.max(seconds, 1e-9));
        }
    }

    private final Supplier<List<PartitionLog>> partitions;
    private final Settings settings;
    private final InstantSource clock;
    private final Thread thread;
    private final Throttler throttler;
    private final OffsetMap map;
    private final Map<PartitionLog, Long> cleanedUpTo = new HashMap<>();
    private final ByteBuffer out = ByteBuffer.allocateDirect(WRITE_BUFFER);
    private final MemorySegment outSegment = MemorySegment.ofBuffer(out);
    /** The run of dropped batches not yet written as a gap batch: [gapStart, gapEnd), or gapStart -1. */
    private long gapStart = -1L;
    private long gapEnd;
    private long gapMaxTs;
    private final MemorySegment gapBuffer = MemorySegment.ofArray(new byte[GapBatches.SIZE]);
    private volatile boolean closed;
    private volatile Stats last;
    private long rounds; // guarded by this

    Cleaner(Supplier<List<PartitionLog>> partitions, Settings settings, InstantSource clock) {
        this.partitions = partitions;
        this.settings = settings;
        this.clock = clock;
        this.throttler = new Throttler(settings.ioMaxBytesPerSecond());
        this.map = new OffsetMap(settings.maxKeys());
        this.thread = Thread.ofPlatform().name("kiri-log-cleaner").daemon(true).unstarted(this::run);
    }

    void start() {
        if (settings.enabled()) thread.start();
    }

    private void run() {
        while (!closed) {
            try {
                cleanAll();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "log cleaner round failed", e);
            }
            synchronized (this) {
                rounds++;
                notifyAll();
                try {
                    if (!closed) wait(settings.backoffMs());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** One round over every open partition. */
    void cleanAll() throws InterruptedException {
        List<PartitionLog> logs = partitions.get();
        cleanedUpTo.keySet().retainAll(new HashSet<>(logs));
        for (PartitionLog p : logs) {
            if (closed || Thread.currentThread().isInterrupted()) return;
            if (p.isDeleted() || !p.config.compaction().compact()) continue;
            try {
                Stats s = cleanIfDue(p, clock.millis());
                if (s != null) {
                    last = s;
                    LOG.log(System.Logger.Level.INFO, () -> "log cleaner: " + p.tp + " " + s.describe());
                }
            } catch (IOException | RuntimeException e) {
                if (!p.isDeleted()) LOG.log(System.Logger.Level.WARNING, "cannot clean " + p.tp + ": " + e, e);
            }
        }
    }

    /** Waits (for tests) until {@code n} more rounds have ended. */
    void awaitRounds(int n) throws InterruptedException {
        synchronized (this) {
            long target = rounds + n;
            while (rounds < target && !closed) {
                notifyAll();
                wait(100);
            }
        }
    }

    /** Wakes the thread for a round now (tests, the bench). */
    void wakeUp() {
        synchronized (this) {
            notifyAll();
        }
    }

    Stats lastStats() {
        return last;
    }

    /** Cleans {@code p} if due; returns what it did, or null. */
    Stats cleanIfDue(PartitionLog p, long nowMs) throws IOException, InterruptedException {
        LogConfig c = p.config;
        CompactionConfig cc = c.compaction();
        Segment[] segs = p.segmentArray();
        long lso = p.offsets().lastStableOffset();
        int n = 0;
        while (n < segs.length - 1 && segs[n].nextOffset <= lso
                && (segs[n].maxTimestamp < 0 || segs[n].maxTimestamp <= nowMs - cc.minCompactionLagMs())) {
            n++;
        }
        if (n == 0) return null;
        long dirtyFrom = cleanedUpTo.getOrDefault(p, -1L);
        long dirty = 0;
        long total = 0;
        long oldestDirty = -1L;
        for (int i = 0; i < n; i++) {
            total += segs[i].size;
            if (segs[i].nextOffset > dirtyFrom) {
                dirty += segs[i].size;
                if (oldestDirty < 0) oldestDirty = segs[i].maxTimestamp;
            }
        }
        if (!cc.due(dirty, total, oldestDirty, nowMs)) return null;
        return clean(p, segs, n, cc, c.segmentBytes(), nowMs);
    }

    private Stats clean(PartitionLog p, Segment[] segs, int n, CompactionConfig cc, int segmentBytes, long nowMs)
            throws IOException, InterruptedException {
        long started = System.nanoTime();
        map.clear();
        BatchCleaner cleaner = new BatchCleaner(cc, nowMs, map, p.abortedTransactions(segs[0].baseOffset, segs[n - 1].nextOffset));
        long[] read = {0};
        int indexed = 0;
        pass1:
        for (; indexed < n; indexed++) {
            Segment s = segs[indexed];
            if (!s.retain()) return null; // retention deleted it meanwhile: next round
            try {
                FileWindow w = new FileWindow(s.log, s.size, 1 << 20);
                for (long pos = 0; pos < s.size; ) {
                    MemorySegment batch = batchAt(w, s, pos);
                    if (!cleaner.index(batch)) break pass1; // the key map is full: clean the segments indexed so far
                    pos += batch.byteSize();
                    read[0] += batch.byteSize();
                    throttler.acquire(batch.byteSize());
                }
            } finally {
                s.release();
            }
        }
        if (indexed == 0) {
            LOG.log(System.Logger.Level.WARNING, p.tp + ": one segment has more keys than log.cleaner.dedupe.buffer.size holds; not cleaned");
            return null;
        }
        Set<Long> active = new HashSet<>();
        for (ActiveProducer a : p.activeProducers()) active.add(a.producerId());
        cleaner.beginClean(active::contains);
        long written = 0;
        for (int from = 0; from < indexed; ) {
            int to = from + 1;
            long groupSize = segs[from].size;
            while (to < indexed && groupSize + segs[to].size <= segmentBytes
                    && segs[to].nextOffset - segs[from].baseOffset <= Integer.MAX_VALUE) { // index entries are int offsets
                groupSize += segs[to++].size;
            }
            Segment[] group = java.util.Arrays.copyOfRange(segs, from, to);
            long w = cleanGroup(p, group, cleaner, read, nowMs);
            if (w < 0) return null;
            written += w;
            from = to;
        }
        cleanedUpTo.put(p, segs[indexed - 1].nextOffset);
        return new Stats(read[0], written, cleaner.recordsRead(), cleaner.recordsKept(), System.nanoTime() - started);
    }

    /** Writes the cleaned form of {@code group} and swaps it in; returns bytes written, or -1 if the log changed meanwhile. */
    private long cleanGroup(PartitionLog p, Segment[] group, BatchCleaner cleaner, long[] read, long nowMs)
            throws IOException, InterruptedException {
        long base = group[0].baseOffset;
        Path cleaned = CleanerSwap.cleanedPath(p.dir, base);
        long written = 0;
        boolean complete = false;
        try (FileChannel ch = FileChannel.open(cleaned, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            out.clear();
            gapStart = -1L;
            for (Segment s : group) {
                if (!s.retain()) return -1; // retention took it meanwhile
                try {
                    FileWindow w = new FileWindow(s.log, s.size, 1 << 20);
                    for (long pos = 0; pos < s.size; ) {
                        MemorySegment batch = batchAt(w, s, pos);
                        pos += batch.byteSize();
                        read[0] += batch.byteSize();
                        long batchBase = RecordBatch.baseOffset(batch);
                        MemorySegment kept = cleaner.clean(batch, false);
                        long wrote = 0;
                        if (kept == null) {
                            if (gapStart < 0) {
                                gapStart = batchBase;
                                gapMaxTs = -1L;
                            }
                            gapEnd = RecordBatch.nextOffset(batch, batchBase);
                            gapMaxTs = Math.max(gapMaxTs, RecordBatch.maxTimestamp(batch));
                        } else {
                            wrote = writeGap(ch) + write(ch, kept);
                        }
                        written += wrote;
                        throttler.acquire(batch.byteSize() + wrote);
                    }
                } finally {
                    s.release();
                }
            }
            written += writeGap(ch);
            flush(ch);
            ch.force(true);
            complete = true;
        } finally {
            if (!complete) Files.deleteIfExists(cleaned);
        }
        if (!p.replaceSegments(group, cleaned, nowMs)) {
            Files.deleteIfExists(cleaned);
            return -1;
        }
        return written;
    }

    private static MemorySegment batchAt(FileWindow w, Segment s, long pos) throws IOException {
        MemorySegment h = w.view(pos, RecordBatch.HEADER_SIZE);
        if (h == null) throw new IOException("unexpected end of " + s.logPath + " at " + pos);
        MemorySegment batch = w.view(pos, RecordBatch.LOG_OVERHEAD + RecordBatch.batchLength(h));
        if (batch == null) throw new IOException("unexpected end of " + s.logPath + " at " + pos);
        return batch;
    }

    /** Writes the gap batches that stand for the run of dropped batches pending, if any; returns the bytes written. */
    private long writeGap(FileChannel ch) throws IOException {
        long bytes = 0;
        for (; gapStart >= 0 && gapStart < gapEnd; gapStart += GapBatches.MAX_SPAN) {
            bytes += write(ch, GapBatches.write(gapBuffer, gapStart, Math.min(gapEnd, gapStart + GapBatches.MAX_SPAN), gapMaxTs));
        }
        gapStart = -1L;
        return bytes;
    }

    private long write(FileChannel ch, MemorySegment batch) throws IOException {
        if (batch.byteSize() > out.remaining()) flush(ch);
        if (batch.byteSize() > out.capacity()) {
            ByteBuffer b = batch.asByteBuffer();
            while (b.hasRemaining()) ch.write(b);
            return batch.byteSize();
        }
        MemorySegment.copy(batch, 0, outSegment, out.position(), batch.byteSize());
        out.position(out.position() + (int) batch.byteSize());
        return batch.byteSize();
    }

    private void flush(FileChannel ch) throws IOException {
        out.flip();
        while (out.hasRemaining()) ch.write(out);
        out.clear();
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            if (thread.isAlive()) thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
