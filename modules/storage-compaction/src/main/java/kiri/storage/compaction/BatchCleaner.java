package kiri.storage.compaction;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;
import kiri.compress.BatchCompression;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordCursor;
import kiri.storage.api.AbortedTransaction;

/**
 * Decides, batch by batch, what a cleaning pass over a compacted partition's cleanable range keeps, the way
 * Kafka's log cleaner does. Two passes over the same batches in offset order:
 * <ol>
 *   <li>{@link #index}: every keyed record of committed (not aborted) data records its offset as its key's latest
 *       in the {@link OffsetMap}; each producer's last data batch is noted.</li>
 *   <li>{@link #clean}: a record is kept if it is its key's latest, and dropped if a later record has its key, if it
 *       has no key, if its transaction was aborted, or if it is a tombstone (null value) whose timestamp is older
 *       than {@code delete.retention.ms}. A batch keeps its base offset, last offset delta, producer id, epoch and
 *       base sequence (offsets are never renumbered: dropped records leave gaps); the retained records' bytes are
 *       copied as they are (no per-record objects), the header's length, count and CRC rewritten, a compressed batch
 *       recompressed with its codec. A batch left with no record is dropped, unless it is a producer's last batch
 *       (idempotent producers need its sequence) or the caller must keep it (then it stays as an empty batch). A
 *       control batch (transaction marker) is dropped once none of its transaction's data remains and it is
 *       older than {@code delete.retention.ms}.</li>
 * </ol>
 * Batches are whole v2 batches at offset 0 of their segment. A batch that cannot be parsed is kept as it is.
 * Not thread-safe: one per cleaning pass, on the cleaner's thread.
 */
public final class BatchCleaner {

    private final CompactionConfig config;
    private final long nowMs;
    private final OffsetMap map;
    private final List<AbortedTransaction> aborted;
    private AbortedRanges ranges;
    private final Map<Long, Long> lastDataBatch = new HashMap<>();
    private final Set<Long> txnWithData = new HashSet<>();
    private LongPredicate activeProducer = pid -> true;
    private final RecordBatch flyweight = new RecordBatch();
    private final RecordCursor cursor = new RecordCursor();
    private byte[] scratch = new byte[64 << 10];
    /** For tests and stats: records seen and kept by {@link #clean}. */
    private long recordsRead;
    private long recordsKept;

    /**
     * @param aborted the partition's aborted transactions overlapping the range (any order)
     * @param map an empty map, reused across passes of one thread
     */
    public BatchCleaner(CompactionConfig config, long nowMs, OffsetMap map, List<AbortedTransaction> aborted) {
        this.config = config;
        this.nowMs = nowMs;
        this.map = map;
        this.aborted = aborted;
        this.ranges = new AbortedRanges(aborted);
    }

    /**
     * Pass 1: notes the batch's keys. Returns false, noting nothing, when the map is full: the caller cleans
     * only the range before this batch.
     */
    public boolean index(MemorySegment batch) {
        long base = RecordBatch.baseOffset(batch);
        if (RecordBatch.isControl(batch)) {
            ranges.isAborted(batch, base);
            return true;
        }
        long pid = RecordBatch.producerId(batch);
        if (ranges.isAborted(batch, base)) {
            lastDataBatch.put(pid, base); // an aborted batch still carries its producer's sequence
            return true;
        }
        try {
            MemorySegment records = uncompressed(batch);
            cursor.wrap(flyweight.wrap(records, 0));
            while (cursor.next()) {
                if (cursor.hasKey() && !map.put(records, cursor.keyOffset(), cursor.keyLength(), cursor.offset())) return false;
            }
        } catch (ProtocolException e) {
            // an unreadable batch is kept whole by clean(): nothing to note
        }
        if (pid != RecordBatch.NO_PRODUCER_ID) lastDataBatch.put(pid, base);
        return true;
    }

    /** Starts pass 2; {@code activeProducer} tells which producer ids still need their last batch. */
    public void beginClean(LongPredicate activeProducer) {
        this.activeProducer = activeProducer;
        this.ranges = new AbortedRanges(aborted);
    }

    /**
     * Pass 2: what to write for {@code batch}: the batch itself (kept whole), a rewritten copy (valid until the
     * next call), or null (dropped). {@code keepHeader}: never drop it (write it empty at worst), e.g. the last
     * batch of a rewritten segment, whose next offset the segment must keep.
     */
    public MemorySegment clean(MemorySegment batch, boolean keepHeader) {
        long base = RecordBatch.baseOffset(batch);
        long pid = RecordBatch.producerId(batch);
        boolean abortedData = ranges.isAborted(batch, base);
        if (RecordBatch.isControl(batch)) {
            boolean hasData = txnWithData.remove(pid);
            if (hasData || keepHeader || RecordBatch.maxTimestamp(batch) >= nowMs - config.deleteRetentionMs()) {
                return batch;
            }
            return null;
        }
        boolean lastOfProducer = pid != RecordBatch.NO_PRODUCER_ID && lastDataBatch.getOrDefault(pid, -1L) == base
                && activeProducer.test(pid);
        boolean mustKeep = keepHeader || lastOfProducer;
        MemorySegment out;
        if (abortedData) {
            recordsRead += RecordBatch.recordCount(batch);
            out = mustKeep ? empty(batch) : null;
        } else {
            try {
                out = filter(batch, mustKeep);
            } catch (ProtocolException e) {
                out = batch;
            }
        }
        if (out != null && RecordBatch.isTransactional(batch)) txnWithData.add(pid);
        return out;
    }

    private MemorySegment filter(MemorySegment batch, boolean mustKeep) {
        MemorySegment records = uncompressed(batch);
        long tombstoneHorizon = nowMs - config.deleteRetentionMs();
        cursor.wrap(flyweight.wrap(records, 0));
        int count = RecordBatch.recordCount(batch);
        int kept = 0;
        int size = RecordBatch.HEADER_SIZE;
        ensureScratch((int) records.byteSize());
        MemorySegment out = MemorySegment.ofArray(scratch);
        while (cursor.next()) {
            recordsRead++;
            if (!cursor.hasKey()) continue;
            long latest = map.latest(records, cursor.keyOffset(), cursor.keyLength());
            if (latest > cursor.offset()) continue;
            if (!cursor.hasValue() && cursor.timestamp() < tombstoneHorizon) continue;
            MemorySegment.copy(records, cursor.position(), out, size, cursor.sizeInBytes());
            size += cursor.sizeInBytes();
            kept++;
        }
        recordsKept += kept;
        if (kept == count) return batch;
        if (kept == 0 && !mustKeep) return null;
        return finish(records, batch, size, kept);
    }

    /** {@code batch} with no records: its offsets, producer id, epoch and sequences stay. */
    private MemorySegment empty(MemorySegment batch) {
        return finish(batch, batch, RecordBatch.HEADER_SIZE, 0);
    }

    /** Completes the batch in {@code scratch}: header from {@code header}, length, count, CRC; recompressed if the original was. */
    private MemorySegment finish(MemorySegment header, MemorySegment original, int size, int kept) {
        MemorySegment out = MemorySegment.ofArray(scratch).asSlice(0, size);
        MemorySegment.copy(header, 0, out, 0, RecordBatch.HEADER_SIZE);
        short attributes = RecordBatch.attributes(original);
        out.set(SHORT, RecordBatch.ATTRIBUTES_OFFSET, (short) (attributes & ~RecordBatch.COMPRESSION_MASK));
        out.set(INT, RecordBatch.BATCH_LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        out.set(INT, RecordBatch.RECORD_COUNT_OFFSET, kept);
        int codec = attributes & RecordBatch.COMPRESSION_MASK;
        if (codec != 0 && kept > 0) {
            return BatchCompression.compress(out, CompressionType.forId(codec));
        }
        flyweight.wrap(out, 0).writeCrc();
        return out;
    }

    private MemorySegment uncompressed(MemorySegment batch) {
        if (RecordBatch.compressionId(batch) == 0) return batch;
        return BatchCompression.decompress(flyweight.wrap(batch, 0), BatchCompression.DEFAULT_MAX_RECORDS_BYTES);
    }

    private void ensureScratch(int size) {
        if (scratch.length < size) scratch = new byte[Math.max(size, scratch.length * 2)];
    }

    public long recordsRead() {
        return recordsRead;
    }

    public long recordsKept() {
        return recordsKept;
    }
}
