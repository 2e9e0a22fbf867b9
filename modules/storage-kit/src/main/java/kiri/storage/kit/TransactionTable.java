package kiri.storage.kit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import kiri.protocol.ErrorCode;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;

/**
 * Transactional ids and their transactions with Kafka's coordinator rules, shared by engines:
 * InitProducerId (epoch bumps, fencing, KIP-360), AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit,
 * EndTxn (markers, pending offsets, retries, transaction version 2 bumps), timeouts and
 * Describe/ListTransactions. The engine supplies what needs its partitions through {@link Engine}.
 *
 * <p>A durable engine persists {@link #snapshot} of the ids a method names after it returns, and
 * {@link #restore}s them on open. Methods throw {@link StorageException}.
 *
 * <p>Thread-safe: one monitor per transactional id; {@link Engine} callbacks run under it, so a
 * transactional data batch ({@link #produce}) and the markers that end its transaction are ordered.
 */
public final class TransactionTable {

    /** What a transaction needs from the engine's partitions. Called under the transaction's monitor. */
    public interface Engine {
        boolean partitionExists(TopicPartition tp);

        /** Appends a COMMIT or ABORT marker of {@code producer} to {@code tp} (which may have been deleted meanwhile). */
        void writeMarker(TopicPartition tp, ProducerIdAndEpoch producer, boolean commit);

        /** Stores offsets committed by a transaction. */
        void commitOffsets(String groupId, List<OffsetCommit> offsets);
    }

    /** A transactional id as persisted. */
    public record Snapshot(String transactionalId, ProducerIdAndEpoch producer, ProducerIdAndEpoch previous, int timeoutMs,
                           TransactionState state, long startMs, List<TopicPartition> partitions,
                           Map<String, Map<TopicPartition, OffsetCommit>> pendingOffsets) {
        public Snapshot {
            partitions = List.copyOf(partitions);
            Map<String, Map<TopicPartition, OffsetCommit>> copy = new LinkedHashMap<>();
            pendingOffsets.forEach((g, m) -> copy.put(g, Map.copyOf(m)));
            pendingOffsets = Map.copyOf(copy);
        }
    }

    private static final class Txn {
        final String id;
        ProducerIdAndEpoch producer = ProducerIdAndEpoch.NONE;
        ProducerIdAndEpoch previous = ProducerIdAndEpoch.NONE;
        int timeoutMs;
        TransactionState state = TransactionState.EMPTY;
        long startMs = -1L;
        final Set<TopicPartition> partitions = new LinkedHashSet<>();
        final Map<String, Map<TopicPartition, OffsetCommit>> pendingOffsets = new LinkedHashMap<>();

        Txn(String id) {
            this.id = id;
        }

        void begin(long nowMs) {
            if (state != TransactionState.ONGOING) {
                state = TransactionState.ONGOING;
                startMs = nowMs;
                partitions.clear();
                pendingOffsets.clear();
            }
        }

        TransactionDescription describe() {
            return new TransactionDescription(id, producer.producerId(), producer.epoch(), timeoutMs, state,
                    state == TransactionState.ONGOING ? startMs : -1L, partitions);
        }
    }

    private final ConcurrentHashMap<String, Txn> txns = new ConcurrentHashMap<>();
    private final Engine engine;
    private final LongSupplier producerIds;

    /** @param producerIds allocates fresh producer ids (shared with non-transactional InitProducerId) */
    public TransactionTable(Engine engine, LongSupplier producerIds) {
        this.engine = engine;
        this.producerIds = producerIds;
    }

    /** InitProducerId with a transactional id (aborting an open transaction first). */
    public ProducerIdAndEpoch initProducerId(String transactionalId, int transactionTimeoutMs, ProducerIdAndEpoch expected,
                                             long nowMs) {
        if (transactionTimeoutMs <= 0) {
            throw new StorageException(ErrorCode.INVALID_TRANSACTION_TIMEOUT, "Transaction timeout must be positive: " + transactionTimeoutMs);
        }
        Txn txn = txns.computeIfAbsent(transactionalId, Txn::new);
        synchronized (txn) {
            ProducerIdAndEpoch next = ProducerEpochs.reinit(txn.producer, txn.previous, expected, producerIds);
            if (next.equals(txn.producer)) return next; // a retried bump: already done
            if (txn.state == TransactionState.ONGOING) end(txn, false);
            txn.previous = txn.producer;
            txn.producer = next;
            txn.timeoutMs = transactionTimeoutMs;
            txn.state = TransactionState.EMPTY;
            return next;
        }
    }

    /** AddPartitionsToTxn; see {@link Storage#addPartitionsToTxn}. */
    public Map<TopicPartition, Short> addPartitions(String transactionalId, ProducerIdAndEpoch producer,
                                                    Collection<TopicPartition> partitions, long nowMs) {
        Txn txn = txn(transactionalId);
        synchronized (txn) {
            ProducerEpochs.verify(transactionalId, txn.producer, producer);
            Map<TopicPartition, Short> errors = new LinkedHashMap<>();
            boolean missing = false;
            for (TopicPartition tp : partitions) {
                boolean exists = engine.partitionExists(tp);
                missing |= !exists;
                errors.put(tp, exists ? ErrorCode.OPERATION_NOT_ATTEMPTED.code() : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code());
            }
            if (missing) return errors;
            txn.begin(nowMs);
            txn.partitions.addAll(partitions);
            return Map.of();
        }
    }

    /** AddOffsetsToTxn. */
    public void addOffsets(String transactionalId, ProducerIdAndEpoch producer, String groupId, long nowMs) {
        Txn txn = txn(transactionalId);
        synchronized (txn) {
            ProducerEpochs.verify(transactionalId, txn.producer, producer);
            txn.begin(nowMs);
            txn.pendingOffsets.computeIfAbsent(groupId, k -> new LinkedHashMap<>());
        }
    }

    /** TxnOffsetCommit: pending until the transaction ends. */
    public void txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                List<OffsetCommit> offsets, long nowMs) {
        Txn txn = txn(transactionalId);
        synchronized (txn) {
            ProducerEpochs.verify(transactionalId, txn.producer, producer);
            txn.begin(nowMs);
            Map<TopicPartition, OffsetCommit> pending = txn.pendingOffsets.computeIfAbsent(groupId, k -> new LinkedHashMap<>());
            for (OffsetCommit c : offsets) pending.put(c.partition(), c);
        }
    }

    /** EndTxn; see {@link Storage#endTxn}. */
    public ProducerIdAndEpoch end(String transactionalId, ProducerIdAndEpoch producer, boolean commit, boolean bumpEpoch) {
        Txn txn = txn(transactionalId);
        synchronized (txn) {
            TransactionState done = commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
            // A retried transaction-version-2 end: the bump happened, the client still has the old epoch.
            if (bumpEpoch && txn.state == done && producer.equals(txn.previous)) return txn.producer;
            ProducerEpochs.verify(transactionalId, txn.producer, producer);
            switch (txn.state) {
                case ONGOING -> end(txn, commit);
                case EMPTY, COMPLETE_ABORT, COMPLETE_COMMIT -> {
                    boolean retry = txn.state == done;
                    boolean abortNothing = !commit && txn.state == TransactionState.EMPTY;
                    if (!retry && !abortNothing) {
                        throw new StorageException(ErrorCode.INVALID_TXN_STATE, "Cannot " + (commit ? "commit" : "abort")
                                + " transactional id '" + transactionalId + "' in state " + txn.state.kafkaName());
                    }
                    if (retry && bumpEpoch) return txn.producer; // no second bump for a retry
                }
                default -> throw new StorageException(ErrorCode.CONCURRENT_TRANSACTIONS,
                        "Transactional id '" + transactionalId + "' is in state " + txn.state.kafkaName());
            }
            if (bumpEpoch) {
                txn.previous = txn.producer;
                txn.producer = ProducerEpochs.bump(txn.producer, producerIds);
            }
            return txn.producer;
        }
    }

    /**
     * A transactional data batch for {@code tp}: checks that {@code transactionalId}'s current producer
     * wrote it, joins the partition to the (possibly new) transaction and runs {@code append} under the
     * transaction's monitor, so that no marker can overtake it.
     *
     * @throws StorageException INVALID_PRODUCER_ID_MAPPING or INVALID_PRODUCER_EPOCH
     */
    public <T> T produce(String transactionalId, TopicPartition tp, long producerId, short epoch, long nowMs, Supplier<T> append) {
        Txn txn = txns.get(transactionalId);
        if (txn == null) {
            throw new StorageException(ErrorCode.INVALID_PRODUCER_ID_MAPPING, "Unknown transactional id '" + transactionalId + "'");
        }
        synchronized (txn) {
            if (producerId != txn.producer.producerId()) {
                throw new StorageException(ErrorCode.INVALID_PRODUCER_ID_MAPPING, "Producer id " + producerId
                        + " is not the current producer of transactional id '" + transactionalId + "'");
            }
            if (epoch != txn.producer.epoch()) {
                throw new StorageException(ErrorCode.INVALID_PRODUCER_EPOCH, "Epoch of producer " + producerId + " is " + epoch
                        + ", but the current epoch is " + txn.producer.epoch());
            }
            txn.begin(nowMs);
            txn.partitions.add(tp);
            return append.get();
        }
    }

    /** The UNSTABLE_OFFSET_COMMIT error if an open transaction has pending offsets of {@code groupId} for {@code partitions} (all if null), else null. */
    public StorageException unstableOffsets(String groupId, Collection<TopicPartition> partitions) {
        for (Txn txn : txns.values()) {
            synchronized (txn) {
                Map<TopicPartition, OffsetCommit> pending = txn.pendingOffsets.get(groupId);
                if (pending == null || txn.state != TransactionState.ONGOING) continue;
                for (TopicPartition tp : pending.keySet()) {
                    if (partitions == null || partitions.contains(tp)) {
                        return new StorageException(ErrorCode.UNSTABLE_OFFSET_COMMIT, "There are unstable offsets for "
                                + tp + " in group '" + groupId + "' (open transaction '" + txn.id + "')");
                    }
                }
            }
        }
        return null;
    }

    /** Describe/ListTransactions ({@code transactionalIds} null: all, by id). */
    public List<TransactionDescription> describe(Collection<String> transactionalIds) {
        List<TransactionDescription> out = new ArrayList<>();
        Collection<String> ids = transactionalIds != null ? transactionalIds : new TreeSet<>(txns.keySet());
        for (String id : ids) {
            Txn txn = txns.get(id);
            if (txn == null) continue;
            synchronized (txn) {
                if (!txn.producer.isNone()) out.add(txn.describe());
            }
        }
        return out;
    }

    /** Aborts transactions open longer than their timeout and bumps their epoch (fencing the late producer, as Kafka); returns their ids. */
    public List<String> abortExpired(long nowMs) {
        List<String> out = new ArrayList<>();
        for (Txn txn : txns.values()) {
            synchronized (txn) {
                if (txn.state == TransactionState.ONGOING && nowMs - txn.startMs > txn.timeoutMs) {
                    end(txn, false);
                    txn.previous = txn.producer;
                    txn.producer = ProducerEpochs.bump(txn.producer, producerIds);
                    out.add(txn.id);
                }
            }
        }
        return out;
    }

    /**
     * After recovery: a partition holds an open transaction of {@code producerId} that the stored
     * transaction does not list (the partition joined through a produce whose state was not yet
     * persisted). Adds it to that producer's transaction so that its end or timeout closes it.
     *
     * @return the transactional id adopting it, or null if no transactional id has that producer
     */
    public String adopt(long producerId, TopicPartition tp, long nowMs) {
        for (Txn txn : txns.values()) {
            synchronized (txn) {
                if (txn.producer.producerId() != producerId) continue;
                txn.begin(nowMs);
                txn.partitions.add(tp);
                return txn.id;
            }
        }
        return null;
    }

    public Snapshot snapshot(String transactionalId) {
        Txn txn = txns.get(transactionalId);
        if (txn == null) return null;
        synchronized (txn) {
            return new Snapshot(txn.id, txn.producer, txn.previous, txn.timeoutMs, txn.state, txn.startMs,
                    List.copyOf(txn.partitions), txn.pendingOffsets);
        }
    }

    /** Loads a persisted transactional id (on open, before serving). */
    public void restore(Snapshot s) {
        Txn txn = new Txn(s.transactionalId());
        txn.producer = s.producer();
        txn.previous = s.previous();
        txn.timeoutMs = s.timeoutMs();
        txn.state = s.state();
        txn.startMs = s.startMs();
        txn.partitions.addAll(s.partitions());
        s.pendingOffsets().forEach((g, m) -> txn.pendingOffsets.put(g, new LinkedHashMap<>(m)));
        txns.put(txn.id, txn);
    }

    /**
     * Puts a transactional id back as {@code before} (its {@link #snapshot} before a change whose persisting failed;
     * null if it did not exist), so that nobody sees a state the engine could not make durable.
     */
    public void rollback(String transactionalId, Snapshot before) {
        if (before == null) txns.remove(transactionalId);
        else restore(before);
    }

    /** The largest producer id any transactional id holds or held, or -1. */
    public long maxProducerId() {
        long max = -1L;
        for (Txn txn : txns.values()) {
            synchronized (txn) {
                max = Math.max(max, Math.max(txn.producer.producerId(), txn.previous.producerId()));
            }
        }
        return max;
    }

    private Txn txn(String transactionalId) {
        Txn txn = txns.get(transactionalId);
        if (txn == null) {
            throw new StorageException(ErrorCode.INVALID_PRODUCER_ID_MAPPING, "Unknown transactional id '" + transactionalId + "'");
        }
        return txn;
    }

    /** Ends the open transaction (caller holds its monitor): a marker per partition, then the pending offsets. */
    private void end(Txn txn, boolean commit) {
        for (TopicPartition tp : txn.partitions) {
            if (engine.partitionExists(tp)) engine.writeMarker(tp, txn.producer, commit);
        }
        if (commit) {
            txn.pendingOffsets.forEach((groupId, offsets) -> {
                if (!offsets.isEmpty()) engine.commitOffsets(groupId, List.copyOf(offsets.values()));
            });
        }
        txn.partitions.clear();
        txn.pendingOffsets.clear();
        txn.state = commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
    }
}
