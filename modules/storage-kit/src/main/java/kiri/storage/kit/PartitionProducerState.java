package kiri.storage.kit;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiri.protocol.ErrorCode;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.ControlBatch;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.StorageException;

/**
 * Kafka's per-partition producer state, shared by every engine that keeps records: idempotence
 * (sequence checks and duplicate detection per producer), epoch fencing, open transactions (which
 * bound the last stable offset) and aborted-transaction ranges (for READ_COMMITTED fetches).
 *
 * <p>Why a shared helper rather than engine code: the rules are Kafka's, identical for every engine
 * and subtle (a 5-batch duplicate window, wrap-around sequences, sequence reset on a new epoch, a marker
 * bumping the epoch), while where the state lives differs per engine. The check must be atomic with
 * offset assignment, so the engine drives it under its own per-partition append order:
 * <pre>{@code
 * long dup = state.check(batch);                       // may throw a StorageException
 * if (dup != PartitionProducerState.APPEND) { setBaseOffset(batch, dup); return DONE; }  // retry of a stored batch
 * long base = nextOffset; setBaseOffset(batch, base); append(batch);
 * state.onAppend(batch, base);
 * }</pre>
 * A durable engine rebuilds the state on recovery by calling {@link #onAppend} for each stored batch
 * header in offset order (headers only; no record decoding).
 *
 * <p>Not thread-safe: one instance per partition, used under the engine's append serialization.
 */
public final class PartitionProducerState {
    /** {@link #check} result: the batch is new, append it. */
    public static final long APPEND = -1L;
    /** How many recent batches per producer are remembered for duplicate detection (Kafka's value; clients keep at most 5 in flight). */
    public static final int BATCHES_TO_RETAIN = 5;

    private final Map<Long, Producer> producers = new HashMap<>();
    /** First offset of each open transaction -> producer id; the smallest key bounds the last stable offset. */
    private final TreeMap<Long, Long> ongoing = new TreeMap<>();
    /** Aborted ranges in marker-offset order. */
    private final ArrayList<AbortedRange> aborted = new ArrayList<>();

    private record AbortedRange(long producerId, long firstOffset, long lastOffset) {}

    private static final class Producer {
        short epoch;
        // Ring of the last BATCHES_TO_RETAIN batches: first/last sequence and base offset.
        final int[] firstSeq = new int[BATCHES_TO_RETAIN];
        final int[] lastSeq = new int[BATCHES_TO_RETAIN];
        final long[] baseOffset = new long[BATCHES_TO_RETAIN];
        int count;
        int next;
        long lastTimestamp = -1L;
        long lastDataOffset = -1L;
        long txnFirstOffset = -1L;
        int coordinatorEpoch = -1;

        Producer(short epoch) {
            this.epoch = epoch;
        }

        int lastSeq() {
            return count == 0 ? RecordBatch.NO_SEQUENCE : lastSeq[(next + BATCHES_TO_RETAIN - 1) % BATCHES_TO_RETAIN];
        }

        long duplicateOf(int first, int last) {
            for (int i = 0; i < count; i++) {
                if (firstSeq[i] == first && lastSeq[i] == last) return baseOffset[i];
            }
            return APPEND;
        }

        void remember(int first, int last, long offset) {
            firstSeq[next] = first;
            lastSeq[next] = last;
            baseOffset[next] = offset;
            next = (next + 1) % BATCHES_TO_RETAIN;
            if (count < BATCHES_TO_RETAIN) count++;
        }

        void newEpoch(short e) {
            if (e != epoch) {
                epoch = e;
                count = 0;
                next = 0;
            }
        }
    }

    /**
     * Checks a batch before it is appended.
     *
     * @return {@link #APPEND} if the batch must be appended, or the base offset at which the same batch
     *         (same producer, epoch and sequence range) was already stored: a client retry, answered
     *         with the original offset as Kafka does
     * @throws StorageException INVALID_PRODUCER_EPOCH (epoch older than the producer's latest),
     *                          OUT_OF_ORDER_SEQUENCE_NUMBER (gap, or a new epoch not starting at 0),
     *                          INVALID_TXN_STATE (non-transactional write inside an open transaction)
     */
    public long check(MemorySegment batch) {
        long pid = RecordBatch.producerId(batch);
        if (pid == RecordBatch.NO_PRODUCER_ID) return APPEND;
        Producer p = producers.get(pid);
        // Unknown producer (new, or its state expired/was truncated away): any sequence is accepted, as in Kafka.
        if (p == null) return APPEND;
        short epoch = RecordBatch.producerEpoch(batch);
        if (RecordBatch.isControl(batch)) {
            if (epoch < p.epoch) throw staleEpoch(pid, epoch, p.epoch);
            return APPEND;
        }
        int first = RecordBatch.baseSequence(batch);
        if (epoch == p.epoch) {
            long dup = p.duplicateOf(first, RecordBatch.lastSequence(batch));
            if (dup != APPEND) return dup;
        }
        if (epoch < p.epoch) throw staleEpoch(pid, epoch, p.epoch);
        if (epoch > p.epoch) {
            if (first != 0) {
                throw new StorageException(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, "Invalid sequence number for new epoch of producer "
                        + pid + ": " + epoch + " (request epoch), " + first + " (seq. number), " + p.epoch + " (current producer epoch)");
            }
        } else if (!inSequence(p.lastSeq(), first)) {
            throw new StorageException(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, "Out of order sequence number for producer "
                    + pid + ": " + first + " (incoming seq. number), " + p.lastSeq() + " (current end sequence number)");
        }
        if (!RecordBatch.isTransactional(batch) && p.txnFirstOffset >= 0) {
            throw new StorageException(ErrorCode.INVALID_TXN_STATE,
                    "Expected transactional write from producer " + pid + " inside its open transaction");
        }
        return APPEND;
    }

    /**
     * Records a batch just appended at {@code baseOffset} (data or marker): remembers its sequence
     * range, opens a transaction on the producer's first transactional batch, and on a marker closes it
     * (an ABORT adds an aborted range ending at the marker).
     */
    public void onAppend(MemorySegment batch, long baseOffset) {
        long pid = RecordBatch.producerId(batch);
        if (pid == RecordBatch.NO_PRODUCER_ID) return;
        short epoch = RecordBatch.producerEpoch(batch);
        Producer p = producers.get(pid);
        if (p == null) {
            p = new Producer(epoch);
            producers.put(pid, p);
        }
        p.newEpoch(epoch);
        if (RecordBatch.isControl(batch)) {
            boolean commit;
            try {
                p.coordinatorEpoch = ControlBatch.coordinatorEpoch(batch);
                commit = ControlBatch.isCommit(batch);
            } catch (ProtocolException e) { // engines report a malformed marker with a Kafka code
                throw new StorageException(ErrorCode.CORRUPT_MESSAGE, e.getMessage());
            }
            if (p.txnFirstOffset >= 0) {
                ongoing.remove(p.txnFirstOffset);
                if (!commit) aborted.add(new AbortedRange(pid, p.txnFirstOffset, baseOffset));
                p.txnFirstOffset = -1L;
            }
            return;
        }
        p.remember(RecordBatch.baseSequence(batch), RecordBatch.lastSequence(batch), baseOffset);
        p.lastTimestamp = RecordBatch.maxTimestamp(batch);
        p.lastDataOffset = RecordBatch.nextOffset(batch, baseOffset) - 1;
        if (RecordBatch.isTransactional(batch) && p.txnFirstOffset < 0) {
            p.txnFirstOffset = baseOffset;
            ongoing.put(baseOffset, pid);
        }
    }

    /** First offset of the oldest open transaction, or -1 if none: the last stable offset is {@code min(this, highWatermark)}. */
    public long firstUnstableOffset() {
        return ongoing.isEmpty() ? -1L : ongoing.firstKey();
    }

    /** The last stable offset for a partition whose high watermark is {@code highWatermark}. */
    public long lastStableOffset(long highWatermark) {
        long first = firstUnstableOffset();
        return first < 0 ? highWatermark : Math.min(first, highWatermark);
    }

    /** Whether {@code producerId} has an open transaction on this partition. */
    public boolean hasOpenTransaction(long producerId) {
        Producer p = producers.get(producerId);
        return p != null && p.txnFirstOffset >= 0;
    }

    /**
     * The aborted transactions a READ_COMMITTED fetch of {@code [fromOffset, upToOffset)} must report:
     * those whose range ends at or after {@code fromOffset} and starts before {@code upToOffset}.
     */
    public List<AbortedTransaction> abortedTransactions(long fromOffset, long upToOffset) {
        int lo = 0;
        int hi = aborted.size();
        while (lo < hi) { // first range whose marker is at or after fromOffset
            int mid = (lo + hi) >>> 1;
            if (aborted.get(mid).lastOffset() < fromOffset) lo = mid + 1;
            else hi = mid;
        }
        List<AbortedTransaction> out = null;
        for (int i = lo; i < aborted.size(); i++) {
            AbortedRange r = aborted.get(i);
            if (r.firstOffset() < upToOffset) {
                if (out == null) out = new ArrayList<>();
                out.add(new AbortedTransaction(r.producerId(), r.firstOffset()));
            }
        }
        return out == null ? List.of() : out;
    }

    /**
     * Forgets what lies before a new log start offset (retention, DeleteRecords): aborted ranges that
     * end before it and producers with no data at or after it and no open transaction.
     */
    public void onLogStartOffset(long logStartOffset) {
        aborted.removeIf(r -> r.lastOffset() < logStartOffset);
        producers.values().removeIf(p -> p.txnFirstOffset < 0 && p.lastDataOffset < logStartOffset);
    }

    /**
     * Drops producers idle for longer than {@code expirationMs} (Kafka's {@code producer.id.expiration.ms},
     * 1 day by default), judged by their last batch's timestamp; producers with an open transaction stay.
     */
    public void removeExpired(long nowMs, long expirationMs) {
        for (Iterator<Producer> it = producers.values().iterator(); it.hasNext(); ) {
            Producer p = it.next();
            if (p.txnFirstOffset < 0 && p.lastTimestamp >= 0 && nowMs - p.lastTimestamp > expirationMs) it.remove();
        }
    }

    /** DescribeProducers rows, by producer id. */
    public List<ActiveProducer> activeProducers() {
        List<ActiveProducer> out = new ArrayList<>(producers.size());
        new TreeMap<>(producers).forEach((pid, p) -> out.add(new ActiveProducer(pid, p.epoch, p.lastSeq(),
                p.lastTimestamp, p.coordinatorEpoch, p.txnFirstOffset)));
        return out;
    }

    /** Whether {@code next} follows {@code last}, wrapping from {@code Integer.MAX_VALUE} to 0. */
    public static boolean inSequence(int last, int next) {
        return next == (long) last + 1 || (next == 0 && last == Integer.MAX_VALUE);
    }

    private static StorageException staleEpoch(long pid, short epoch, short current) {
        // Kafka (since 2.7) answers a produce with an old epoch INVALID_PRODUCER_EPOCH, not PRODUCER_FENCED,
        // so that the client aborts and retries rather than treating the error as fatal.
        return new StorageException(ErrorCode.INVALID_PRODUCER_EPOCH, "Epoch of producer " + pid + " is " + epoch
                + ", which is smaller than the last seen epoch " + current);
    }
}
