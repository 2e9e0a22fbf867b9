package kiri.storage.kit;

import java.lang.foreign.MemorySegment;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.SecurityState;
import kiri.storage.api.Stages;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.storage.api.Topics;
import kiri.storage.api.TransactionDescription;

/**
 * The part of a {@link Storage} that is the same for every engine: brokers, topics and configs, committed offsets,
 * consumer group state, producer ids, transactions, security, the closed state and the produce checks. Subclasses
 * keep the records: they supply the partition type {@code P} and the record operations, and write the transaction
 * markers {@link #endTxn} asks for. A durable engine also gives a {@link MetadataStore}, which is called after each
 * change (rolled back when it fails), and may run the metadata path on a thread of its own ({@link #metadata}).
 *
 * <p>Locks, always taken in this order: the admin lock (topic create/delete/alter), a transaction
 * (see {@link #appendTransactional}), a partition or a group. Subclasses' partition locks come last.
 * With a {@link MetadataStore} other than {@link MetadataStore#NONE}, every change runs through {@link #metadata},
 * which the engine must serialize (one thread).
 *
 * @param <P> the engine's partition state
 */
public abstract class CatalogStorage<P> implements Storage {
    /** The leader epoch stamped into every batch: a single node never changes leader. */
    public static final int LEADER_EPOCH = 0;
    private static final System.Logger LOG = System.getLogger("kiri.storage.kit");

    private final StorageContext context;
    private final InstantSource clock;
    private final String clusterId;
    private final MetadataStore store;
    /** Whether {@link #store} keeps anything: if not, changes need no snapshot to roll back to. */
    private final boolean durable;

    private final Object adminLock = new Object();
    /** Changed under adminLock. */
    private final TopicCatalog<CatalogTopic<P>> catalog;

    private final GroupTable groups = new GroupTable();
    private final AtomicLong producerIds = new AtomicLong();
    private final TransactionTable txns = new TransactionTable(new TxnEngine(), this::nextProducerId);
    /** Groups changed as a side effect (a transaction's offsets, a topic deletion) and not stored yet (metadata path). */
    private final Set<String> dirtyGroups = new LinkedHashSet<>();

    private volatile boolean closed;
    private volatile SecurityState security = SecurityState.EMPTY;

    /** An engine that keeps its catalogue in memory only. */
    protected CatalogStorage(StorageContext context) {
        this(context, MetadataStore.NONE);
    }

    protected CatalogStorage(StorageContext context, MetadataStore store) {
        this.context = context;
        this.clock = context.clock();
        this.clusterId = context.clusterId() != null ? context.clusterId() : KafkaUuid.toString(KafkaUuid.random());
        this.catalog = new TopicCatalog<>(context.nodeId(), context.broker(), CatalogTopic::info);
        this.store = store;
        this.durable = store != MetadataStore.NONE;
    }

    // ---- what subclasses supply --------------------------------------------------------------

    /** A new, empty partition {@code index} of {@code topic} (topic creation or restore, CreatePartitions). */
    protected abstract P newPartition(TopicInfo topic, int index);

    /** The partition's topic was deleted, or the storage is closing: wake its waiters, free its memory. */
    protected abstract void onPartitionRemoved(P partition);

    /**
     * Appends a COMMIT or ABORT marker for {@code producer} to a partition of its transaction. Called with
     * the transaction's lock held (the partition lock, if any, is taken inside).
     */
    protected abstract void writeMarker(TopicPartition tp, P partition, ProducerIdAndEpoch producer, boolean commit);

    /** Record housekeeping for {@link #maintain} (retention, producer expiry); nothing by default. */
    protected void maintainRecords(long nowMs) {
    }

    /** A topic's configs changed ({@code topic} is the new snapshot, with the same partitions); nothing by default. */
    protected void onConfigsChanged(CatalogTopic<P> topic) {
    }

    /**
     * After a transaction change wrote markers (outside the transaction's lock, before its record is stored):
     * a durable engine waits here until they are durable. Nothing by default.
     */
    protected void awaitMarkers() {
    }

    /** A new producer id (InitProducerId without a transactional id, or one whose epoch ran out). */
    protected long nextProducerId() {
        return producerIds.getAndIncrement();
    }

    /**
     * Runs a change of the catalogue or a table; its StorageException fails the stage. Inline by default; an engine
     * whose {@link MetadataStore} does I/O runs it on its own metadata thread (one at a time).
     */
    protected <T> CompletableFuture<T> metadata(Supplier<T> change) {
        if (closed) return closedStage();
        return Stages.of(change);
    }

    // ---- what subclasses use -----------------------------------------------------------------

    protected final InstantSource clock() {
        return clock;
    }

    protected final boolean isClosed() {
        return closed;
    }

    /** Marks the storage closed; false if it already was (close is idempotent). */
    protected final boolean markClosed() {
        if (closed) return false;
        closed = true;
        return true;
    }

    protected final GroupTable groups() {
        return groups;
    }

    protected final TransactionTable transactions() {
        return txns;
    }

    /** The topic snapshot, or null. */
    protected final CatalogTopic<P> topic(String name) {
        return catalog.get(name);
    }

    /** Every topic snapshot (a weakly consistent view). */
    protected final Collection<CatalogTopic<P>> topics() {
        return catalog.all();
    }

    /** The partition, or null if it (or its topic) does not exist. */
    protected final P partition(TopicPartition tp) {
        CatalogTopic<P> t = catalog.get(tp.topic());
        return t == null ? null : t.partition(tp.partition());
    }

    /**
     * Runs {@code body} with the partition; a stage failed with KAFKA_STORAGE_ERROR once closed, with
     * UNKNOWN_TOPIC_OR_PARTITION if there is no such partition, or with the StorageException {@code body} throws.
     */
    protected final <T> CompletableFuture<T> withPartition(TopicPartition tp, Function<P, ? extends CompletionStage<T>> body) {
        if (closed) return closedStage();
        P p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        try {
            return body.apply(p).toCompletableFuture();
        } catch (StorageException e) {
            return Stages.failed(e);
        }
    }

    /** A read of the in-memory tables: KAFKA_STORAGE_ERROR once closed. */
    private <T> CompletionStage<T> ifOpen(Supplier<T> read) {
        return closed ? closedStage() : CompletableFuture.completedFuture(read.get());
    }

    protected static <T> CompletableFuture<T> closedStage() {
        return Stages.failed(ErrorCode.KAFKA_STORAGE_ERROR, "storage is closed");
    }

    /**
     * Kafka's checks of one produced batch that every engine makes before storing it, with Kafka's errors: a whole
     * v2 batch (CORRUPT_MESSAGE), no larger than the topic's max.message.bytes (MESSAGE_TOO_LARGE), not a control
     * batch (INVALID_RECORD: only the coordinator writes markers). Null when the batch may be stored.
     */
    protected static <T> CompletableFuture<T> refusal(CatalogTopic<?> topic, TopicPartition tp, MemorySegment batch) {
        return refusal(topic.maxMessageBytes(), tp, batch);
    }

    /** As {@link #refusal(CatalogTopic, TopicPartition, MemorySegment)}, for an engine that keeps the topic's max.message.bytes itself. */
    protected static <T> CompletableFuture<T> refusal(int maxMessageBytes, TopicPartition tp, MemorySegment batch) {
        long size = batch.byteSize();
        if (size < RecordBatch.HEADER_SIZE || RecordBatch.lastOffsetDelta(batch) < 0
                || RecordBatch.sizeInBytes(batch) != size) {
            return Stages.failed(ErrorCode.CORRUPT_MESSAGE, "Malformed record batch of " + size + " bytes for " + tp);
        }
        if (size > maxMessageBytes) {
            return Stages.failed(ErrorCode.MESSAGE_TOO_LARGE, "The record batch size in the append to " + tp + " is "
                    + size + " bytes which exceeds the maximum configured value of " + maxMessageBytes + ".");
        }
        if (RecordBatch.isControl(batch)) {
            return Stages.failed(ErrorCode.INVALID_RECORD, "Clients may not write control batches (" + tp + ")");
        }
        return null;
    }

    /**
     * DeleteRecords' bound: {@code beforeOffset}, or the high watermark for -1.
     *
     * @throws StorageException OFFSET_OUT_OF_RANGE if it is negative or beyond the high watermark
     */
    protected static long deleteBefore(TopicPartition tp, long beforeOffset, long highWatermark) {
        long before = beforeOffset == -1L ? highWatermark : beforeOffset;
        if (before < 0 || before > highWatermark) {
            throw new StorageException(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp + " before offset "
                    + beforeOffset + ": the high watermark is " + highWatermark);
        }
        return before;
    }

    /**
     * Adds a topic the engine keeps in its own store (loaded on open, or just stored by the engine), with
     * its stored id; its partitions come from {@link #newPartition} and are led by this node.
     *
     * @return the topic's info as the catalogue now holds it
     */
    protected final TopicInfo restoreTopic(String name, java.util.UUID id, int partitionCount, short replicationFactor,
                                           Map<String, String> configs) {
        synchronized (adminLock) {
            TopicInfo info = new TopicInfo(name, id, catalog.partitionInfos(0, partitionCount, List.of()), replicationFactor, configs);
            catalog.add(CatalogTopic.of(info, partitions(info, List.of())));
            return info;
        }
    }

    /** Restores the security state a durable engine stored. */
    protected final void restoreSecurity(SecurityState state) {
        security = state;
    }

    /**
     * Retries what the metadata store and side effects left unstored (housekeeping does this; an engine's close may
     * once more, after its metadata path stopped). True when nothing lags.
     */
    protected final boolean retryPending() {
        boolean stored = store.retry();
        try {
            for (var it = dirtyGroups.iterator(); it.hasNext(); ) {
                persistGroup(it.next());
                it.remove();
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot store a group's metadata (retrying): " + e.getMessage());
        }
        return stored && dirtyGroups.isEmpty();
    }

    /** {@code existing} followed by new partitions up to the topic's partition count. */
    private List<P> partitions(TopicInfo info, List<P> existing) {
        List<P> partitions = new ArrayList<>(existing);
        for (int i = partitions.size(); i < info.partitionCount(); i++) partitions.add(newPartition(info, i));
        return partitions;
    }

    /**
     * Runs {@code transactional} for a transactional batch under its transaction's lock, after checking that
     * {@code transactionalId}'s current producer wrote the batch; the partition joins the transaction
     * (Kafka's transaction version 2 adds it implicitly).
     *
     * @throws StorageException INVALID_RECORD (no transactional id), INVALID_PRODUCER_ID_MAPPING, INVALID_PRODUCER_EPOCH
     */
    protected final <T> T appendTransactional(String transactionalId, TopicPartition tp, MemorySegment batch,
                                              Supplier<T> append) {
        if (transactionalId == null) {
            throw new StorageException(ErrorCode.INVALID_RECORD, "Transactional batch for " + tp + " without a transactional id");
        }
        return txns.produce(transactionalId, tp, RecordBatch.producerId(batch), RecordBatch.producerEpoch(batch),
                clock.millis(), append);
    }

    // ---- persistence of the tables (metadata path) ----------------------------------------------

    private void persistGroup(String groupId) {
        if (durable) store.putGroup(groups.snapshot(groupId));
    }

    private void persistTxn(String transactionalId) {
        if (!durable) return;
        TransactionTable.Snapshot s = txns.snapshot(transactionalId);
        if (s != null) store.putTransaction(s);
    }

    /**
     * Applies {@code change} to one group and stores it; if storing fails, the group goes back to what it was, so
     * that nobody reads a change a restart would take back.
     */
    private <T> T changeGroup(String groupId, Supplier<T> change) {
        if (!durable) return change.get();
        GroupTable.Snapshot before = groups.snapshot(groupId);
        T result = change.get();
        try {
            persistGroup(groupId);
        } catch (RuntimeException e) {
            groups.rollback(before);
            throw e;
        }
        return result;
    }

    /** As {@link #changeGroup}, for a change of one transactional id's record alone (no markers, no offsets). */
    private <T> T changeTxn(String transactionalId, Supplier<T> change) {
        if (!durable) return change.get();
        TransactionTable.Snapshot before = txns.snapshot(transactionalId);
        T result = change.get();
        try {
            persistTxn(transactionalId);
        } catch (RuntimeException e) {
            txns.rollback(transactionalId, before);
            throw e;
        }
        return result;
    }

    /** After a transaction-table change: markers durable first, then the offsets it committed, then its own record. */
    private void persistTxnEffects(Collection<String> transactionalIds) {
        awaitMarkers();
        for (var it = dirtyGroups.iterator(); it.hasNext(); ) {
            persistGroup(it.next());
            it.remove();
        }
        for (String id : transactionalIds) persistTxn(id);
    }

    // ---- identity and cluster ---------------------------------------------------------------

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public int nodeId() {
        return context.nodeId();
    }

    @Override
    public CompletionStage<Void> registerBroker(BrokerInfo broker) {
        if (closed) return closedStage();
        catalog.registerBroker(broker);
        return Stages.DONE;
    }

    @Override
    public CompletionStage<List<BrokerInfo>> brokers() {
        return ifOpen(() -> catalog.brokers());
    }

    @Override
    public CompletionStage<Void> ping() {
        return closed ? closedStage() : Stages.DONE;
    }

    // ---- topics ----------------------------------------------------------------------------

    @Override
    public CompletionStage<TopicInfo> createTopic(NewTopic request, boolean validateOnly) {
        return metadata(() -> {
            synchronized (adminLock) {
                TopicInfo info = catalog.newTopic(request);
                if (!validateOnly) {
                    store.putTopic(info, true);
                    catalog.add(CatalogTopic.of(info, partitions(info, List.of())));
                }
                return info;
            }
        });
    }

    @Override
    public CompletionStage<TopicInfo> deleteTopic(TopicRef ref) {
        return metadata(() -> {
            CatalogTopic<P> removed;
            synchronized (adminLock) {
                removed = catalog.lookup(ref);
                if (removed == null) throw Topics.unknown(ref);
                store.removeTopic(removed.info(), () -> {
                    catalog.remove(removed);
                    for (P p : removed.partitions()) onPartitionRemoved(p);
                });
            }
            // Group files are rewritten (which may need space) after the data is gone; retried by housekeeping too.
            Set<String> changed = groups.removeTopic(removed.info().name());
            if (durable) {
                dirtyGroups.addAll(changed);
                retryPending();
            }
            return removed.info();
        });
    }

    @Override
    public CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly) {
        return metadata(() -> {
            synchronized (adminLock) {
                CatalogTopic<P> current = catalog.existing(topic);
                TopicInfo info = catalog.withPartitions(current, totalCount);
                if (!validateOnly) {
                    store.putTopic(info, false);
                    catalog.publish(CatalogTopic.of(info, partitions(info, current.partitions())));
                }
                return info;
            }
        });
    }

    @Override
    public CompletionStage<List<TopicInfo>> listTopics() {
        return ifOpen(() -> catalog.list());
    }

    @Override
    public CompletionStage<List<TopicInfo>> describeTopics(Collection<? extends TopicRef> refs) {
        return ifOpen(() -> catalog.describe(refs));
    }

    @Override
    public CompletionStage<TopicInfo> alterTopicConfigs(String topic, List<ConfigOp> ops, boolean validateOnly) {
        return metadata(() -> {
            synchronized (adminLock) {
                CatalogTopic<P> current = catalog.existing(topic);
                TopicInfo info = catalog.withConfigs(current, ops);
                if (!validateOnly) {
                    store.putTopic(info, false);
                    CatalogTopic<P> next = CatalogTopic.of(info, current.partitions());
                    catalog.publish(next);
                    onConfigsChanged(next);
                }
                return info;
            }
        });
    }

    // ---- committed offsets -------------------------------------------------------------------

    @Override
    public CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets) {
        return metadata(() -> changeGroup(groupId, () -> {
            groups.commit(groupId, offsets, clock.millis());
            return null;
        }));
    }

    @Override
    public CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId, Collection<TopicPartition> partitions,
                                                                              boolean requireStable) {
        if (closed) return closedStage();
        if (requireStable) {
            StorageException unstable = txns.unstableOffsets(groupId, partitions);
            if (unstable != null) return Stages.failed(unstable);
        }
        return CompletableFuture.completedFuture(groups.fetch(groupId, partitions));
    }

    @Override
    public CompletionStage<Void> deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        return metadata(() -> changeGroup(groupId, () -> {
            groups.deleteOffsets(groupId, partitions);
            return null;
        }));
    }

    // ---- consumer groups ---------------------------------------------------------------------

    @Override
    public CompletionStage<List<GroupListing>> listGroups() {
        return ifOpen(() -> groups.list());
    }

    @Override
    public CompletionStage<Optional<GroupState>> group(String groupId) {
        return ifOpen(() -> groups.group(groupId));
    }

    @Override
    public CompletionStage<GroupState> updateGroup(GroupState state) {
        return metadata(() -> changeGroup(state.groupId(), () -> groups.update(state)));
    }

    @Override
    public CompletionStage<Void> deleteGroup(String groupId) {
        return metadata(() -> changeGroup(groupId, () -> {
            groups.delete(groupId);
            return null;
        }));
    }

    // ---- producers and transactions ----------------------------------------------------------

    @Override
    public CompletionStage<ProducerIdAndEpoch> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                              ProducerIdAndEpoch expected) {
        return metadata(() -> {
            if (transactionalId == null) return new ProducerIdAndEpoch(nextProducerId(), (short) 0);
            TransactionTable.Snapshot before = durable ? txns.snapshot(transactionalId) : null;
            ProducerIdAndEpoch result = txns.initProducerId(transactionalId, transactionTimeoutMs, expected, clock.millis());
            try {
                persistTxnEffects(List.of(transactionalId));
            } catch (RuntimeException e) {
                txns.rollback(transactionalId, before); // the client retries; the id it was given was never stored
                throw e;
            }
            return result;
        });
    }

    @Override
    public CompletionStage<Map<TopicPartition, Short>> addPartitionsToTxn(String transactionalId, ProducerIdAndEpoch producer,
                                                                          Collection<TopicPartition> partitions) {
        return metadata(() -> changeTxn(transactionalId, () -> txns.addPartitions(transactionalId, producer, partitions, clock.millis())));
    }

    @Override
    public CompletionStage<Void> addOffsetsToTxn(String transactionalId, ProducerIdAndEpoch producer, String groupId) {
        return metadata(() -> changeTxn(transactionalId, () -> {
            txns.addOffsets(transactionalId, producer, groupId, clock.millis());
            return null;
        }));
    }

    @Override
    public CompletionStage<Void> txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                                 List<OffsetCommit> offsets) {
        return metadata(() -> changeTxn(transactionalId, () -> {
            txns.txnOffsetCommit(transactionalId, producer, groupId, offsets, clock.millis());
            return null;
        }));
    }

    @Override
    public CompletionStage<ProducerIdAndEpoch> endTxn(String transactionalId, ProducerIdAndEpoch producer, boolean commit,
                                                      boolean bumpEpoch) {
        return metadata(() -> {
            ProducerIdAndEpoch next = txns.end(transactionalId, producer, commit, bumpEpoch);
            persistTxnEffects(List.of(transactionalId));
            return next;
        });
    }

    @Override
    public CompletionStage<List<TransactionDescription>> describeTransactions(Collection<String> transactionalIds) {
        return ifOpen(() -> txns.describe(transactionalIds));
    }

    /** The transaction table's view of this engine's partitions; called under a transaction's monitor. */
    private final class TxnEngine implements TransactionTable.Engine {
        @Override
        public boolean partitionExists(TopicPartition tp) {
            return partition(tp) != null;
        }

        @Override
        public void writeMarker(TopicPartition tp, ProducerIdAndEpoch producer, boolean commit) {
            P partition = partition(tp);
            if (partition != null) CatalogStorage.this.writeMarker(tp, partition, producer, commit); // else deleted meanwhile
        }

        @Override
        public void commitOffsets(String groupId, List<OffsetCommit> offsets) {
            groups.commit(groupId, offsets, clock.millis());
            if (durable) dirtyGroups.add(groupId); // stored after the markers (persistTxnEffects)
        }
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    @Override
    public CompletionStage<SecurityState> security() {
        return CompletableFuture.completedFuture(security);
    }

    @Override
    public CompletionStage<Void> saveSecurity(SecurityState state) {
        return metadata(() -> {
            store.putSecurity(state);
            security = state;
            return null;
        });
    }

    @Override
    public CompletionStage<Void> maintain(long nowMs) {
        return metadata(() -> {
            // Records first: retention frees space, and a full disk must not keep the metadata from healing.
            maintainRecords(nowMs);
            if (durable) retryPending();
            persistTxnEffects(txns.abortExpired(nowMs));
            for (String g : groups.expireOffsets(nowMs)) persistGroup(g);
            return null;
        });
    }

    @Override
    public void close() {
        if (!markClosed()) return;
        for (CatalogTopic<P> t : catalog.all()) {
            for (P p : t.partitions()) onPartitionRemoved(p);
        }
    }
}
