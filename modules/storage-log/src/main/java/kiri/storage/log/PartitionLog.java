package kiri.storage.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import kiri.compress.RecordTimestamps;
import kiri.protocol.ErrorCode;
import kiri.protocol.Records;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.kit.DataWaiters;
import kiri.storage.kit.FetchRange;
import kiri.storage.kit.ListOffsets;
import kiri.storage.kit.PartitionProducerState;

/**
 * One partition's log: segments in a directory, the offsets (log start, last stable, high
 * watermark), producer state and long-poll waiters.
 *
 * <p>Offsets are assigned at {@link #assign} under the partition's monitor, in the caller's thread,
 * together with the producer-state check, and in the same critical section the batch is written (by
 * that thread, see {@link Writer#writesInline}) or queued to the engine's {@link Writer}, so the file
 * holds each partition's batches in offset order. The high watermark only moves when a batch is
 * published once it is as durable as the engine promises: readers never see a batch that a crash could
 * take back (in the default fsync mode).
 *
 * <p>Locking: the monitor guards {@code nextOffset}, the producer state and changes of the segment
 * list (copy-on-write, read lock-free by fetches).
 */
final class PartitionLog implements ListOffsets.Lookup {
    static final String LOG_START_FILE = "log-start";
    private static final int LEADER_EPOCH = 0;
    /** How much of a batch header lookups read: up to and including the max timestamp. */
    private static final int HEADER_PEEK = RecordBatch.PRODUCER_ID_OFFSET;

    final TopicPartition tp;
    final Path dir;
    private final FsyncMode fsync;
    /** Keep written zeros ahead of the active segment's end ({@link Segment#extendZeroZone}). */
    private final boolean preallocate;
    volatile LogConfig config;

    private volatile Segment[] segments;
    private long nextOffset; // guarded by this
    /** Appends queued to the writer thread and not yet written by it; guarded by this. */
    private int queued;
    private final AtomicLong highWatermark = new AtomicLong(); // only grows: see publish
    private volatile long lastStableOffset;
    private volatile long logStart;
    private PartitionProducerState producers = new PartitionProducerState(); // guarded by this; replaced by heal
    /**
     * First offsets of transactions whose marker is assigned but not yet durable (count per offset);
     * guarded by this. They still bound the last stable offset, so that READ_COMMITTED readers never
     * see a transaction's records as ended before its marker is on disk.
     */
    private final TreeMap<Long, Integer> closing = new TreeMap<>();
    final DataWaiters waiters = new DataWaiters(highWatermark::get);
    final DataWaiters committedWaiters = new DataWaiters(() -> lastStableOffset);
    private volatile boolean deleted;
    private volatile String failure;
    /** The failure was a queued write (a full disk), which {@link #heal} can undo; a failed force is for good. Guarded by this. */
    private boolean healable;
    /** The log start offset changed but could not be persisted (a full disk): {@link #retryPersist} writes it. */
    private volatile boolean logStartDirty;
    private final DiskFull diskFull;

    /** What recovery found, for logs and tests: bytes cut off after the last valid batch (zeros of a preallocated zone included). */
    long truncatedBytes;
    boolean indexRebuilt;

    private PartitionLog(TopicPartition tp, Path dir, FsyncMode fsync, boolean preallocate, LogConfig config) {
        this.tp = tp;
        this.dir = dir;
        this.fsync = fsync;
        this.preallocate = preallocate;
        this.config = config;
        this.diskFull = new DiskFull(tp);
    }

    // ---- opening and recovery ----------------------------------------------------------------

    /** Opens the partition in {@code dir}, creating it if needed, and recovers it ({@link Recovery}, the module README). */
    static PartitionLog open(TopicPartition tp, Path dir, FsyncMode fsync, boolean preallocate, LogConfig config, long nowMs,
                             RecoveryPolicy policy) {
        PartitionLog p = new PartitionLog(tp, dir, fsync, preallocate, config);
        try {
            p.recover(nowMs, policy);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot recover " + tp + " in " + dir, e);
        }
        return p;
    }

    private void recover(long nowMs, RecoveryPolicy policy) throws IOException {
        boolean created = !Files.isDirectory(dir);
        AtomicFiles.createDirectories(dir);
        if (created) AtomicFiles.forceDirectory(dir.getParent());
        Long stored = MetaFiles.read(dir.resolve(LOG_START_FILE), MetaCodec::longValue);
        long storedLogStart = stored == null ? 0L : stored;
        CleanerSwap.recover(dir); // a cleaning the last run left: rolled back, or finished if committed
        Recovery r = new Recovery(tp, dir, policy, producers, nowMs);
        List<Segment> open = new ArrayList<>(r.run());
        truncatedBytes = r.truncatedBytes;
        indexRebuilt = r.indexRebuilt;
        if (truncatedBytes > 0) AtomicFiles.forceDirectory(dir);
        long end = open.isEmpty() ? storedLogStart : open.getLast().nextOffset;
        if (open.isEmpty() || storedLogStart > end) {
            // Nothing stored, or the tail below the log start was lost (fsync=never): start afresh at the log start.
            for (Segment s : open) s.delete();
            open.clear();
            end = Math.max(end, storedLogStart);
            open.add(Segment.open(dir, end, nowMs));
            AtomicFiles.forceDirectory(dir);
        }
        for (int i = 0; i < open.size() - 1; i++) open.get(i).seal();
        segments = open.toArray(new Segment[0]);
        nextOffset = end;
        highWatermark.set(end);
        logStart = Math.max(storedLogStart, segments[0].baseOffset);
        producers.onLogStartOffset(logStart);
        lastStableOffset = Math.max(logStart, producers.lastStableOffset(end));
    }

    // ---- produce (caller thread) -------------------------------------------------------------

    /**
     * Checks the batch against the producer state, assigns its offsets in place and hands it to {@code writer}
     * ({@link #hand}). Pass the returned append to {@link Writer#acknowledge}, holding no monitor, for its future.
     */
    synchronized Writer.Append assign(MemorySegment batch, Writer writer, long nowMs) {
        if (deleted) throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition: " + tp);
        if (failure != null) throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, failure);
        long dup = producers.check(batch);
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (dup != PartitionProducerState.APPEND) {
            // A retry of a stored batch: the original offset, acknowledged once the original is durable.
            RecordBatch.setBaseOffset(batch, dup);
            Writer.Append retry = new Writer.Append(this, null, dup, dup, done, -1L);
            hand(retry, writer, nowMs);
            return retry;
        }
        long base = nextOffset;
        RecordBatch.setBaseOffset(batch, base);
        RecordBatch.setPartitionLeaderEpoch(batch, LEADER_EPOCH);
        if (config.logAppendTime()) RecordBatch.setLogAppendTime(batch, nowMs);
        long next = RecordBatch.nextOffset(batch, base);
        Writer.Append a = new Writer.Append(this, batch, base, next, done, -1L);
        if (!hand(a, writer, nowMs)) return a; // not written: the offsets stay free for the next append
        nextOffset = next;
        producers.onAppend(batch, base);
        return a;
    }

    /**
     * Appends a transaction marker (no producer checks: the coordinator writes it). Pass the returned append to
     * {@link Writer#acknowledge}, holding no monitor, for its future.
     */
    synchronized Writer.Append appendMarker(MemorySegment marker, Writer writer, long nowMs) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (deleted || failure != null) {
            done.complete(null); // nothing to end on a partition that is gone
            return new Writer.Append(this, null, nextOffset, nextOffset, done, -1L);
        }
        long base = nextOffset;
        RecordBatch.setBaseOffset(marker, base);
        long pid = RecordBatch.producerId(marker);
        long txnStart = -1L;
        for (ActiveProducer p : producers.activeProducers()) {
            if (p.producerId() == pid) txnStart = p.currentTxnStartOffset();
        }
        Writer.Append a = new Writer.Append(this, marker, base, base + 1, done, txnStart);
        if (txnStart >= 0) closing.merge(txnStart, 1, Integer::sum);
        if (!hand(a, writer, nowMs)) {
            if (txnStart >= 0) closing.computeIfPresent(txnStart, (k, n) -> n == 1 ? null : n - 1);
            return a;
        }
        nextOffset = base + 1;
        producers.onAppend(marker, base);
        return a;
    }

    /**
     * Writes {@code a} now, under this monitor, when this thread writes inline ({@link Writer#writesInline}), else
     * queues it to the writer's thread. Once one is queued, the next ones queue behind it until the writer thread has
     * written it, so the file holds batches in offset order either way. The caller commits the offsets (and the
     * producer state) only after this returns true: an inline write that fails (a full disk) fails {@code a}'s future
     * and leaves nothing to undo, so the partition keeps working and the next append takes the same offsets.
     */
    private boolean hand(Writer.Append a, Writer writer, long nowMs) {
        if (queued > 0 || !writer.writesInline()) {
            queued++;
            writer.submit(a);
            return true;
        }
        try {
            writer.written(a, write(a, nowMs));
            diskFull.writeSucceeded();
            return true;
        } catch (IOException | RuntimeException e) {
            if (!(e instanceof StorageException)) diskFull.writeFailed(e);
            a.future().completeExceptionally(Writer.writeFailure(a, e));
            return false;
        }
    }

    /**
     * The writer thread writes an append it was queued ({@link #hand}); returns the segment to force for it. A failure
     * fails the partition: later appends were assigned offsets after this one's. {@link #heal} undoes that.
     */
    synchronized Segment writeQueued(Writer.Append a, long nowMs) throws IOException {
        try {
            Segment s = write(a, nowMs);
            diskFull.writeSucceeded();
            return s;
        } catch (IOException | RuntimeException e) {
            if (!(e instanceof StorageException) && failure == null) {
                failure = "write to " + tp + " failed: " + e;
                healable = true;
                diskFull.writeFailed(e);
            }
            throw e;
        } finally {
            queued--;
        }
    }

    /**
     * After a queued write failed (usually a full disk; {@link LogStorage#maintain} calls this): once nothing is queued
     * any more, rebuilds the producer state from the batches actually in the log and takes appends again from the
     * log's end, so the offsets of the failed appends, which nobody was told, are handed out again. True if healed.
     */
    synchronized boolean heal() throws IOException {
        if (failure == null || !healable || queued > 0 || deleted) return false;
        PartitionProducerState rebuilt = new PartitionProducerState();
        for (Segment s : segments) Recovery.replay(s, s.size, false, rebuilt, false);
        rebuilt.onLogStartOffset(logStart);
        producers = rebuilt;
        nextOffset = segments[segments.length - 1].nextOffset;
        failure = null;
        healable = false;
        DiskFull.LOG.log(System.Logger.Level.INFO, tp + ": taking appends again from offset " + nextOffset);
        return true;
    }

    // ---- writing (writer thread, or the assigning thread under this monitor) -------------------

    /**
     * Writes one batch into the active segment (rolling first if needed); returns the segment a force must cover for it:
     * the one written, or for a retried duplicate (no batch) the active one, which holds the original unless a roll
     * forced it already.
     */
    Segment write(Writer.Append a, long nowMs) throws IOException {
        if (deleted) throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition: " + tp);
        if (failure != null) throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, failure);
        if (a.batch() == null) return segments[segments.length - 1];
        try {
            ByteBuffer bytes = a.batch().asByteBuffer();
            Segment active = segments[segments.length - 1];
            LogConfig c = config;
            if (active.size > 0 && (active.size + bytes.remaining() > c.segmentBytes() || nowMs - active.createdMs > c.segmentMs()
                    || active.indexFull() || a.next() - active.baseOffset > Integer.MAX_VALUE)) {
                active = roll(a.base(), nowMs);
            }
            if (!active.retain()) throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "partition deleted: " + tp);
            try {
                active.append(bytes, a.base(), a.next(), RecordBatch.maxTimestamp(a.batch()));
                if (preallocate) active.extendZeroZoneOrTrim(c.segmentBytes());
            } finally {
                active.release();
            }
            return active;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private Segment roll(long base, long nowMs) throws IOException {
        // In every fsync mode a segment is forced when it is sealed: only the last segment can ever be torn,
        // which is the one recovery CRC-checks. Trimmed first, so that the force makes the shorter length durable too.
        // The new segment is created first: if the disk is full that fails with nothing changed, and the next append
        // tries again.
        Segment sealed = segments[segments.length - 1];
        Segment s;
        try {
            s = Segment.open(dir, base, nowMs);
        } catch (UncheckedIOException e) {
            Segment.deleteFiles(dir, base);
            throw e.getCause();
        }
        try {
            sealed.trimZeroZone();
            sealed.force();
            sealed.seal();
            AtomicFiles.forceDirectory(dir);
        } catch (IOException | RuntimeException e) {
            s.delete();
            throw e;
        }
        synchronized (this) {
            Segment[] old = segments;
            Segment[] next = Arrays.copyOf(old, old.length + 1);
            next[old.length] = s;
            segments = next;
        }
        return s;
    }

    /**
     * Everything up to {@code next} is durable: readers may see it. Several threads publish (event loops ending their
     * rounds, the writer thread), not necessarily in offset order, so the high watermark only ever moves up.
     */
    void publish(Writer.Append a) {
        highWatermark.accumulateAndGet(a.next(), Math::max);
        if (a.closesTxnAt() >= 0) {
            synchronized (this) {
                closing.computeIfPresent(a.closesTxnAt(), (k, n) -> n == 1 ? null : n - 1);
            }
        }
    }

    /** After a group is published: recomputes the last stable offset and wakes long polls. */
    void signal() {
        long lso;
        synchronized (this) {
            lso = producers.lastStableOffset(highWatermark.get());
            if (!closing.isEmpty()) lso = Math.min(lso, closing.firstKey());
            lso = Math.max(logStart, lso);
            lastStableOffset = lso; // under the monitor: a signal computed from an older high watermark must not land last
        }
        waiters.signal();
        committedWaiters.signal();
    }

    /** A force failed (or a queued write, already recorded by {@link #writeQueued}): appends fail until a restart. */
    synchronized void fail(Writer.Append a, String message) {
        if (failure == null) failure = message;
        if (a.closesTxnAt() >= 0) closing.computeIfPresent(a.closesTxnAt(), (k, n) -> n == 1 ? null : n - 1);
    }

    // ---- reading (any thread) ----------------------------------------------------------------

    PartitionOffsets offsets() {
        long ls = logStart;
        long hwm = highWatermark.get();
        return new PartitionOffsets(ls, Math.min(hwm, Math.max(ls, lastStableOffset)), hwm);
    }

    FetchResult fetch(long offset, int maxBytes, boolean minOneBatch, IsolationLevel isolation) throws IOException {
        while (true) {
            PartitionOffsets o = offsets();
            StorageException outOfRange = FetchRange.check(tp, offset, o);
            if (outOfRange != null) throw outOfRange;
            long end = o.fetchableEnd(isolation);
            if (offset >= end) return FetchResult.empty(o);
            Segment[] segs = segments;
            int i = floor(segs, offset);
            boolean retry = false;
            for (; i < segs.length; i++) {
                Segment s = segs[i];
                if (!s.retain()) {
                    retry = true; // deleted under us (retention): look again
                    break;
                }
                boolean keep = false;
                try {
                    long[] range = scan(s, offset, end, maxBytes, minOneBatch);
                    if (range == null) continue; // offset is past this segment's batches
                    if (range[1] == range[0]) return FetchResult.empty(o);
                    List<AbortedTransaction> aborted = List.of();
                    if (isolation == IsolationLevel.READ_COMMITTED) {
                        synchronized (this) {
                            aborted = producers.abortedTransactions(offset, range[2]);
                        }
                    }
                    keep = true;
                    return new FetchResult(o.highWatermark(), o.lastStableOffset(), o.logStartOffset(),
                            List.of(new Records.FileRegion(s.log, range[0], range[1] - range[0])), aborted, s::release);
                } finally {
                    if (!keep) s.release();
                }
            }
            if (!retry) return FetchResult.empty(o);
        }
    }

    private static int floor(Segment[] segs, long offset) {
        int i = segs.length - 1;
        while (i > 0 && segs[i].baseOffset > offset) i--;
        return i;
    }

    /**
     * Whole batches of {@code s} from the one holding {@code offset}, below {@code end}, within
     * {@code maxBytes}: {start, endPosition, offset after the last batch}; null if the segment has no
     * batch holding {@code offset} or later.
     */
    private static long[] scan(Segment s, long offset, long end, int maxBytes, boolean minOneBatch) throws IOException {
        long size = s.size;
        long pos = s.positionFor(offset);
        FileWindow w = new FileWindow(s.log, size, SCAN_BUFFER.get());
        long start = -1L;
        long stop = -1L;
        long after = offset;
        while (pos < size) {
            MemorySegment h = w.view(pos, HEADER_PEEK);
            if (h == null) throw new IOException("unexpected end of " + s.logPath + " at " + pos);
            long base = RecordBatch.baseOffset(h);
            if (base >= end) break;
            long batchSize = RecordBatch.LOG_OVERHEAD + (long) RecordBatch.batchLength(h);
            long next = RecordBatch.nextOffset(h, base);
            if (next > offset) {
                if (start < 0) {
                    start = pos;
                    stop = pos;
                }
                if (stop + batchSize - start > maxBytes && !(stop == start && minOneBatch)) break;
                stop = pos + batchSize;
                after = next;
            }
            pos += batchSize;
        }
        if (start < 0) return pos >= size ? null : new long[] {pos, pos, offset};
        return new long[] {start, stop, after};
    }

    /** Header scans read 16 KiB at a time: one read covers hundreds of small batches' headers. */
    private static final ThreadLocal<ByteBuffer> SCAN_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocate(16 * 1024));

    private static void readFully(Segment s, ByteBuffer buf, long pos) throws IOException {
        buf.clear();
        while (buf.hasRemaining()) {
            if (s.log.read(buf, pos + buf.position()) < 0) throw new IOException("unexpected end of " + s.logPath);
        }
    }

    /** ListOffsets by timestamp: the first record with a timestamp {@code >= ts} below {@code end}. */
    @Override
    public OffsetAndTimestamp atOrAfter(long ts, long end) throws IOException {
        for (Segment s : segments) {
            if (s.maxTimestamp < ts || !s.retain()) continue;
            try {
                long pos = s.positionFor(s.offsetForTimestamp(ts));
                long size = s.size;
                FileWindow w = new FileWindow(s.log, size, SCAN_BUFFER.get());
                while (pos < size) {
                    MemorySegment h = w.view(pos, HEADER_PEEK);
                    if (h == null) throw new IOException("unexpected end of " + s.logPath + " at " + pos);
                    long base = RecordBatch.baseOffset(h);
                    if (base >= end) return OffsetAndTimestamp.UNKNOWN;
                    int batchSize = RecordBatch.LOG_OVERHEAD + RecordBatch.batchLength(h);
                    if (RecordBatch.maxTimestamp(h) >= ts) return recordAtOrAfter(s, pos, batchSize, ts);
                    pos += batchSize;
                }
            } finally {
                s.release();
            }
        }
        return OffsetAndTimestamp.UNKNOWN;
    }

    /** ListOffsets MAX_TIMESTAMP: the record with the largest timestamp below {@code end}. */
    @Override
    public OffsetAndTimestamp maxTimestamp(long end) throws IOException {
        Segment best = null;
        for (Segment s : segments) {
            if (s.maxTimestamp >= 0 && (best == null || s.maxTimestamp > best.maxTimestamp)) best = s;
        }
        if (best == null || !best.retain()) return OffsetAndTimestamp.UNKNOWN;
        try {
            long pos = best.maxTimestampBatchPosition;
            ByteBuffer hdr = ByteBuffer.allocate(HEADER_PEEK);
            MemorySegment h = MemorySegment.ofBuffer(hdr);
            readFully(best, hdr, pos);
            if (RecordBatch.baseOffset(h) >= end) return OffsetAndTimestamp.UNKNOWN;
            return recordAtOrAfter(best, pos, RecordBatch.LOG_OVERHEAD + RecordBatch.batchLength(h),
                    RecordBatch.maxTimestamp(h));
        } finally {
            best.release();
        }
    }

    /**
     * The first record of the batch at {@code pos} with a timestamp {@code >= ts} ({@link RecordTimestamps}: a
     * compressed batch is decompressed, as Kafka does); the batch's base offset and max timestamp if none.
     */
    private static OffsetAndTimestamp recordAtOrAfter(Segment s, long pos, int batchSize, long ts) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(batchSize);
        MemorySegment b = MemorySegment.ofBuffer(buf);
        readFully(s, buf, pos);
        RecordTimestamps.Found f = RecordTimestamps.firstAtOrAfter(b, ts, Long.MIN_VALUE);
        return f != null ? new OffsetAndTimestamp(f.offset(), f.timestamp(), LEADER_EPOCH)
                : new OffsetAndTimestamp(RecordBatch.baseOffset(b), RecordBatch.maxTimestamp(b), LEADER_EPOCH);
    }

    synchronized List<ActiveProducer> activeProducers() {
        return producers.activeProducers();
    }

    /** Producer ids with an open transaction here (recovery hands them to the transaction table). */
    synchronized List<Long> openTransactionProducers() {
        List<Long> out = new ArrayList<>();
        for (ActiveProducer p : producers.activeProducers()) if (p.currentTxnStartOffset() >= 0) out.add(p.producerId());
        return out;
    }

    synchronized long maxProducerId() {
        long max = -1L;
        for (ActiveProducer p : producers.activeProducers()) max = Math.max(max, p.producerId());
        return max;
    }

    // ---- log cleaner hooks (Cleaner's thread) ------------------------------------------------

    /** The current segments, oldest first; the last one is active. */
    Segment[] segmentArray() {
        return segments;
    }

    synchronized List<AbortedTransaction> abortedTransactions(long from, long to) {
        return producers.abortedTransactions(from, to);
    }

    /**
     * Swaps {@code cleaned} in for {@code group} (consecutive sealed segments) if they are still in the log
     * ({@link CleanerSwap}); false if retention or a deletion changed the log meanwhile.
     */
    boolean replaceSegments(Segment[] group, Path cleaned, long nowMs) throws IOException {
        synchronized (this) {
            if (deleted || failure != null) return false;
            Segment[] cur = segments;
            int at = Arrays.asList(cur).indexOf(group[0]);
            if (at < 0 || at + group.length >= cur.length) return false; // gone, or would reach the active segment
            for (int i = 0; i < group.length; i++) if (cur[at + i] != group[i]) return false;
            Segment fresh = CleanerSwap.swap(dir, group[0].baseOffset, cleaned, group, nowMs);
            Segment[] next = new Segment[cur.length - group.length + 1];
            System.arraycopy(cur, 0, next, 0, at);
            next[at] = fresh;
            System.arraycopy(cur, at + group.length, next, at + 1, cur.length - at - group.length);
            segments = next;
        }
        return true;
    }

    long sizeInBytes() {
        long total = 0;
        for (Segment s : segments) total += s.size;
        return total;
    }

    int segmentCount() {
        return segments.length;
    }

    long logStartOffset() {
        return logStart;
    }

    long highWatermark() {
        return highWatermark.get();
    }

    // ---- maintenance (engine's metadata thread) ----------------------------------------------

    /** DeleteRecords: advances and persists the log start offset; returns the new one. */
    long deleteRecords(long before) {
        synchronized (this) {
            if (before <= logStart) return logStart;
            logStart = before;
            producers.onLogStartOffset(logStart);
        }
        // Segments first, the log-start file second: on a full disk deleting is what frees the space the file's
        // rewrite needs. Should that write fail anyway, it is retried (retryPersist) and, as with Kafka's
        // asynchronous log-start checkpoint, a crash before it lands only lets the records between the first
        // remaining segment's base and the new log start reappear; no record is lost and no offset reused.
        dropSegmentsBelowLogStart();
        logStartDirty = true;
        retryPersist();
        signal();
        return logStart;
    }

    /** Persists a log start offset that could not be written before (metadata thread). */
    void retryPersist() {
        if (!logStartDirty) return;
        try {
            logStartDirty = false;
            AtomicFiles.write(dir.resolve(LOG_START_FILE), MetaCodec.longValue(logStart));
        } catch (UncheckedIOException e) {
            logStartDirty = true;
            diskFull.writeFailed(e);
        }
    }

    /** Retention by time and size over sealed segments (the active one always stays); returns bytes deleted. */
    long applyRetention(long nowMs) {
        LogConfig c = config;
        long deletedBytes = 0;
        while (true) {
            Segment[] segs = segments;
            if (segs.length < 2) break;
            Segment oldest = segs[0];
            long total = 0;
            for (Segment s : segs) total += s.size;
            boolean deletes = c.compaction().delete(); // cleanup.policy=compact alone keeps records until compacted away
            boolean byTime = deletes && c.retentionMs() >= 0 && oldest.maxTimestamp >= 0 && oldest.maxTimestamp < nowMs - c.retentionMs();
            boolean bySize = deletes && c.retentionBytes() >= 0 && total - oldest.size >= c.retentionBytes();
            boolean byStart = segs[1].baseOffset <= logStart;
            if (!byTime && !bySize && !byStart) break;
            deletedBytes += oldest.size;
            removeOldest(oldest, segs[1].baseOffset);
        }
        synchronized (this) {
            producers.removeExpired(nowMs, PRODUCER_EXPIRATION_MS);
        }
        return deletedBytes;
    }

    static final long PRODUCER_EXPIRATION_MS = 24L * 60 * 60 * 1000;

    private void dropSegmentsBelowLogStart() {
        while (true) {
            Segment[] segs = segments;
            if (segs.length < 2 || segs[1].baseOffset > logStart) return;
            removeOldest(segs[0], segs[1].baseOffset);
        }
    }

    private void removeOldest(Segment oldest, long newStart) {
        synchronized (this) {
            if (segments[0] != oldest) return; // the cleaner replaced it meanwhile: the caller looks again
            segments = Arrays.copyOfRange(segments, 1, segments.length);
            if (newStart > logStart) logStart = newStart;
            producers.onLogStartOffset(logStart);
        }
        oldest.delete();
        if (fsync instanceof FsyncMode.Always) AtomicFiles.forceDirectory(dir);
    }

    /** Forces every segment's bytes to disk (close, interval flushes); false if one could not be forced. */
    boolean force() {
        boolean ok = true;
        for (Segment s : segments) {
            if (!s.retain()) continue;
            try {
                s.force();
            } catch (IOException e) {
                ok = false; // closed under us (or failed before, which its appends were told): nothing to force
            } finally {
                s.release();
            }
        }
        return ok;
    }

    /**
     * Closes the files (engine close, after the writer stopped): the active segment's zero tail is trimmed and the
     * files forced, so a cleanly closed log holds exactly its batches. Waiters are woken to see the closed engine.
     * Returns whether all of that worked (then the engine may mark the shutdown clean).
     */
    boolean close() {
        synchronized (this) {
            deleted = true;
        }
        Segment active = segments[segments.length - 1];
        boolean clean = true;
        try {
            active.trimZeroZone();
        } catch (IOException e) {
            clean = false; // the zeros stay; recovery stops at them
        }
        clean &= force();
        for (Segment s : segments) s.close();
        waiters.wakeAll();
        committedWaiters.wakeAll();
        return clean && !logStartDirty;
    }

    /** Deletes the partition with its files (topic deletion). */
    void delete() {
        synchronized (this) {
            deleted = true;
        }
        for (Segment s : segments) s.delete();
        AtomicFiles.deleteRecursively(dir);
        waiters.wakeAll();
        committedWaiters.wakeAll();
    }

    boolean isDeleted() {
        return deleted;
    }
}
