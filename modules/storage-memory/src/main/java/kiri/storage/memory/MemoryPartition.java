package kiri.storage.memory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import kiri.compress.RecordTimestamps;
import kiri.protocol.ErrorCode;
import kiri.protocol.Records;
import kiri.protocol.record.ControlBatch;
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
 * One partition of the memory engine: an append-only list of stored batches (each a heap copy of the
 * produced batch with its offsets assigned), the offset stages and the producer state.
 *
 * <p>Appends, reads and truncation take the partition's monitor: the critical sections are a binary
 * search and a few list operations, and a fetch hands out the stored (immutable) segments themselves,
 * so nothing is copied under the lock except the produced batch. The offset stages are also kept in
 * volatile fields so that long-poll waiters read them without the lock.
 */
final class MemoryPartition implements ListOffsets.Lookup {
    /** A stored batch: its bytes (offsets assigned) and what lookups need without reading them. */
    private record Stored(long baseOffset, long nextOffset, long maxTimestamp, MemorySegment bytes) {
        boolean isControl() {
            return RecordBatch.isControl(bytes);
        }
    }

    private final TopicPartition tp;
    /** Stored batches in offset order; those before {@code head} are deleted (compacted away lazily). Guarded by this. */
    private final ArrayList<Stored> batches = new ArrayList<>();
    private int head;
    private long bytes; // guarded by this
    private final PartitionProducerState producers = new PartitionProducerState(); // guarded by this
    private boolean removed; // guarded by this
    /** The log cleaner's view ({@link MemoryCleaner}): where the active "segment" starts and since when; guarded by this. */
    private long activeStart;
    private long activeSinceMs = -1L;
    /** Where the last cleaning ended (everything before is clean); guarded by this. */
    private long cleanedUpTo;

    private volatile long highWatermark;
    private volatile long lastStable;
    private volatile long logStart;

    final DataWaiters uncommittedWaiters = new DataWaiters(() -> highWatermark);
    final DataWaiters committedWaiters = new DataWaiters(() -> lastStable);

    private final MemoryCap cap;

    MemoryPartition(TopicPartition tp, MemoryCap cap) {
        this.tp = tp;
        this.cap = cap;
    }

    PartitionOffsets offsets() {
        long ls = logStart;
        long lso = lastStable;
        long hwm = highWatermark;
        return new PartitionOffsets(ls, Math.max(ls, Math.min(lso, hwm)), hwm);
    }

    long highWatermark() {
        return highWatermark;
    }

    /**
     * Appends a data batch (the caller has validated its size and flags): sequence checks, offset
     * assignment into {@code batch} (the caller's segment, whose answer the router reads), then a copy.
     * A duplicate gets its original base offset written and is not stored again.
     *
     * @param appendTimeMs the append time to stamp for LogAppendTime topics, else -1
     * @throws StorageException from the producer-state checks
     */
    synchronized void append(MemorySegment batch, int leaderEpoch, long appendTimeMs) {
        if (removed) throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Partition " + tp + " was deleted");
        long dup = producers.check(batch);
        if (dup != PartitionProducerState.APPEND) {
            RecordBatch.setBaseOffset(batch, dup);
            return;
        }
        long base = highWatermark;
        RecordBatch.setBaseOffset(batch, base);
        RecordBatch.setPartitionLeaderEpoch(batch, leaderEpoch);
        if (appendTimeMs >= 0) RecordBatch.setLogAppendTime(batch, appendTimeMs);
        cap.reserve(batch.byteSize(), tp);
        byte[] copy;
        try {
            copy = new byte[Math.toIntExact(batch.byteSize())];
        } catch (OutOfMemoryError e) {
            cap.release(batch.byteSize());
            throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "memory:// store is out of heap storing "
                    + batch.byteSize() + " bytes for " + tp);
        }
        MemorySegment stored = MemorySegment.ofArray(copy);
        MemorySegment.copy(batch, 0, stored, 0, copy.length);
        store(stored, base);
    }

    /** Appends a COMMIT or ABORT marker for a producer's transaction. */
    synchronized void appendMarker(long producerId, short epoch, boolean commit, int leaderEpoch, long nowMs) {
        if (removed) return;
        long base = highWatermark;
        MemorySegment marker = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(marker, base, leaderEpoch, producerId, epoch, commit, 0, nowMs);
        cap.add(marker.byteSize());
        store(marker, base);
    }

    private void store(MemorySegment stored, long base) {
        long next = RecordBatch.nextOffset(stored, base);
        batches.add(new Stored(base, next, RecordBatch.maxTimestamp(stored), stored));
        bytes += stored.byteSize();
        producers.onAppend(stored, base);
        highWatermark = next;
        lastStable = producers.lastStableOffset(next);
    }

    /** Wakes the long polls waiting on this partition (after an append, outside the lock). */
    void signal() {
        uncommittedWaiters.signal();
        committedWaiters.signal();
    }

    /** See {@link kiri.storage.api.Storage#fetch}. */
    synchronized FetchResult fetch(long offset, int maxBytes, boolean minOneBatch, IsolationLevel isolation) {
        PartitionOffsets offsets = offsets();
        StorageException outOfRange = FetchRange.check(tp, offset, offsets);
        if (outOfRange != null) throw outOfRange;
        long end = offsets.fetchableEnd(isolation);
        if (offset >= end) return FetchResult.empty(offsets);
        List<Records.Region> regions = new ArrayList<>();
        long total = 0;
        long first = -1L;
        long last = -1L;
        for (int i = indexOf(offset); i < batches.size(); i++) {
            Stored b = batches.get(i);
            // READ_COMMITTED's end (the first open transaction's first offset) is always a batch boundary.
            if (b.baseOffset() >= end) break;
            long size = b.bytes().byteSize();
            if (total + size > maxBytes && !(regions.isEmpty() && minOneBatch)) break;
            regions.add(new Records.Memory(b.bytes().asReadOnly()));
            total += size;
            if (first < 0) first = b.baseOffset();
            last = b.nextOffset();
        }
        List<AbortedTransaction> aborted = isolation == IsolationLevel.READ_COMMITTED && first >= 0
                ? producers.abortedTransactions(first, last) : List.of();
        return new FetchResult(offsets.highWatermark(), offsets.lastStableOffset(), offsets.logStartOffset(), regions,
                aborted, null);
    }

    /** Index of the stored batch containing {@code offset}, or of the first batch after it (size if none). */
    private int indexOf(long offset) {
        int lo = head;
        int hi = batches.size();
        while (lo < hi) { // first batch whose next offset is after `offset`
            int mid = (lo + hi) >>> 1;
            if (batches.get(mid).nextOffset() <= offset) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    @Override
    public OffsetAndTimestamp atOrAfter(long timestamp, long end) {
        return findByTimestamp(timestamp, end, MemoryStorage.LEADER_EPOCH);
    }

    @Override
    public OffsetAndTimestamp maxTimestamp(long end) {
        return maxTimestamp(end, MemoryStorage.LEADER_EPOCH);
    }

    /**
     * ListOffsets by timestamp ({@code >= 0}) or the max-timestamp spec, bounded by {@code end} (the
     * fetchable end at the request's isolation level).
     */
    synchronized OffsetAndTimestamp findByTimestamp(long timestamp, long end, int leaderEpoch) {
        long ls = logStart;
        for (int i = head; i < batches.size(); i++) {
            Stored b = batches.get(i);
            if (b.baseOffset() >= end) break;
            if (b.isControl() || b.maxTimestamp() < timestamp) continue; // the batch's max timestamp lets us skip it whole
            OffsetAndTimestamp found = firstRecordAtOrAfter(b, timestamp, Math.max(ls, b.baseOffset()), leaderEpoch);
            if (found != null && found.offset() < end) return found;
        }
        return OffsetAndTimestamp.UNKNOWN;
    }

    /** ListOffsets MAX_TIMESTAMP: the first record with the largest timestamp, below {@code end}. */
    synchronized OffsetAndTimestamp maxTimestamp(long end, int leaderEpoch) {
        Stored best = null;
        for (int i = head; i < batches.size(); i++) {
            Stored b = batches.get(i);
            if (b.baseOffset() >= end) break;
            if (b.isControl()) continue;
            if (best == null || b.maxTimestamp() > best.maxTimestamp()) best = b;
        }
        if (best == null) return OffsetAndTimestamp.UNKNOWN;
        OffsetAndTimestamp found = firstRecordAtOrAfter(best, best.maxTimestamp(), Math.max(logStart, best.baseOffset()), leaderEpoch);
        return found != null ? found : new OffsetAndTimestamp(best.nextOffset() - 1, best.maxTimestamp(), leaderEpoch);
    }

    /**
     * The first record of {@code b} at or after {@code minOffset} whose timestamp is {@code >= timestamp}
     * ({@link RecordTimestamps}: a compressed batch is decompressed, as Kafka does), or null.
     */
    private static OffsetAndTimestamp firstRecordAtOrAfter(Stored b, long timestamp, long minOffset, int leaderEpoch) {
        RecordTimestamps.Found f = RecordTimestamps.firstAtOrAfter(b.bytes(), timestamp, minOffset);
        return f == null ? null : new OffsetAndTimestamp(f.offset(), f.timestamp(), leaderEpoch);
    }

    /** DeleteRecords: moves the log start offset to {@code before} (never back) and frees whole batches below it. */
    synchronized long deleteBefore(long before) {
        long hwm = highWatermark;
        if (before < 0 || before > hwm) {
            throw new StorageException(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp + " before offset "
                    + before + ": the high watermark is " + hwm);
        }
        if (before > logStart) advanceLogStart(before);
        return logStart;
    }

    /**
     * Retention: drops whole batches from the start while they are older than {@code retentionMs}
     * (by their max timestamp) or while the partition stays at least {@code retentionBytes} without them;
     * a negative limit is off.
     */
    synchronized void applyRetention(long nowMs, long retentionMs, long retentionBytes) {
        long newStart = logStart;
        long size = bytes;
        for (int i = head; i < batches.size(); i++) {
            Stored b = batches.get(i);
            boolean expired = retentionMs >= 0 && b.maxTimestamp() < nowMs - retentionMs;
            boolean tooBig = retentionBytes >= 0 && size - b.bytes().byteSize() >= retentionBytes;
            if (!expired && !tooBig) break;
            size -= b.bytes().byteSize();
            newStart = Math.max(newStart, b.nextOffset());
        }
        if (newStart > logStart) advanceLogStart(newStart);
    }

    /** Producer state idle longer than {@code expirationMs} is forgotten, as Kafka's producer.id.expiration.ms. */
    synchronized void expireProducers(long nowMs, long expirationMs) {
        producers.removeExpired(nowMs, expirationMs);
    }

    private void advanceLogStart(long newStart) {
        logStart = newStart;
        while (head < batches.size() && batches.get(head).nextOffset() <= newStart) {
            bytes -= batches.get(head).bytes().byteSize();
            cap.release(batches.get(head).bytes().byteSize());
            batches.set(head, null);
            head++;
        }
        if (head > 1024 && head > batches.size() / 2) { // compact the dropped prefix away
            batches.subList(0, head).clear();
            head = 0;
        }
        producers.onLogStartOffset(newStart);
        lastStable = producers.lastStableOffset(highWatermark);
    }

    // ---- log cleaner hooks (MemoryCleaner, on the housekeeping thread) --------------------------

    /** What a cleaning may touch, read under the lock: whole batches, immutable, never the active ones. */
    record Cleanable(List<MemorySegment> batches, long cleanedUpTo, long dirtyBytes, long totalBytes, long oldestDirtyTs,
                     List<AbortedTransaction> aborted, List<ActiveProducer> producers) {}

    /**
     * The batches a cleaner may rewrite: from the first one up to the active "segment" (which seals, as a file
     * segment rolls, once it holds {@code segmentBytes} or is older than {@code segmentMs}), the last stable offset and
     * the first batch newer than {@code minLagMs}.
     */
    synchronized Cleanable cleanable(long nowMs, int segmentBytes, long segmentMs, long minLagMs) {
        if (activeSinceMs < 0) activeSinceMs = nowMs;
        long activeBytes = 0;
        for (int i = batches.size() - 1; i >= head && batches.get(i).baseOffset() >= activeStart; i--) {
            activeBytes += batches.get(i).bytes().byteSize();
        }
        if (activeBytes >= segmentBytes || (activeBytes > 0 && nowMs - activeSinceMs > segmentMs)) {
            activeStart = highWatermark; // roll: what is stored is sealed
            activeSinceMs = nowMs;
        }
        long end = Math.min(activeStart, lastStable);
        List<MemorySegment> out = new ArrayList<>();
        long dirty = 0;
        long total = 0;
        long oldestDirty = -1L;
        for (int i = head; i < batches.size(); i++) {
            Stored b = batches.get(i);
            if (b.nextOffset() > end || b.maxTimestamp() > nowMs - minLagMs) break;
            out.add(b.bytes());
            long size = b.bytes().byteSize();
            total += size;
            if (b.nextOffset() > cleanedUpTo) {
                dirty += size;
                if (oldestDirty < 0) oldestDirty = b.maxTimestamp();
            }
        }
        long to = out.isEmpty() ? logStart : batches.get(head + out.size() - 1).nextOffset();
        return new Cleanable(out, cleanedUpTo, dirty, total, oldestDirty, producers.abortedTransactions(logStart, to),
                producers.activeProducers());
    }

    /**
     * Puts {@code cleaned} (what the cleaner kept of {@code old}, in order) in place of {@code old} if those are still
     * the first stored batches; false if retention or DeleteRecords moved the start meanwhile.
     */
    synchronized boolean replaceCleaned(List<MemorySegment> old, List<MemorySegment> cleaned) {
        if (removed || batches.size() - head < old.size()) return false;
        for (int i = 0; i < old.size(); i++) if (batches.get(head + i).bytes() != old.get(i)) return false;
        ArrayList<Stored> next = new ArrayList<>(batches.size() - head - old.size() + cleaned.size());
        long freed = 0;
        for (MemorySegment b : old) freed += b.byteSize();
        for (MemorySegment b : cleaned) {
            long base = RecordBatch.baseOffset(b);
            next.add(new Stored(base, RecordBatch.nextOffset(b, base), RecordBatch.maxTimestamp(b), b));
            freed -= b.byteSize();
        }
        next.addAll(batches.subList(head + old.size(), batches.size()));
        cleanedUpTo = Math.max(cleanedUpTo, batches.get(head + old.size() - 1).nextOffset());
        batches.clear();
        batches.addAll(next);
        head = 0;
        bytes -= freed;
        return true;
    }

    synchronized long sizeInBytes() {
        return bytes;
    }

    synchronized List<ActiveProducer> activeProducers() {
        return producers.activeProducers();
    }

    /** The topic was deleted or the storage closes: frees the batches and wakes every waiter. */
    void remove() {
        synchronized (this) {
            removed = true;
            batches.clear();
            head = 0;
            cap.release(bytes);
            bytes = 0;
        }
        uncommittedWaiters.wakeAll();
        committedWaiters.wakeAll();
    }
}
