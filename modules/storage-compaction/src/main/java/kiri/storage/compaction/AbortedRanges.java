package kiri.storage.compaction;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import kiri.protocol.record.ControlBatch;
import kiri.protocol.record.ControlRecordType;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.AbortedTransaction;

/**
 * Tells which transactional batches belong to aborted transactions while batches are visited in offset order,
 * the way a READ_COMMITTED consumer does: a producer's batches are aborted from an aborted transaction's first
 * offset up to that producer's ABORT marker. Not thread-safe; one pass per instance.
 */
final class AbortedRanges {
    private final List<AbortedTransaction> pending;
    private int next;
    private final Set<Long> open = new HashSet<>();

    AbortedRanges(List<AbortedTransaction> aborted) {
        pending = new ArrayList<>(aborted);
        pending.sort(Comparator.comparingLong(AbortedTransaction::firstOffset));
    }

    /** Visits the batch whose header is {@code batch} at {@code base}; true if it is aborted transactional data. */
    boolean isAborted(java.lang.foreign.MemorySegment batch, long base) {
        while (next < pending.size() && pending.get(next).firstOffset() <= base) open.add(pending.get(next++).producerId());
        long pid = RecordBatch.producerId(batch);
        if (RecordBatch.isControl(batch)) {
            if (ControlBatch.type(batch) == ControlRecordType.ABORT) open.remove(pid);
            return false;
        }
        return RecordBatch.isTransactional(batch) && open.contains(pid);
    }
}
