package kiri.storage.api.base;

import kiri.protocol.ErrorCode;
import java.lang.foreign.MemorySegment;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupTable;
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
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionTable;

/**
 * The part of a {@link Storage} that is the same for every engine keeping its catalogue in memory
 * (null://, memory://): brokers, topics and configs, committed offsets, consumer group state,
 * producer ids and transactions. Subclasses keep the records: they supply the partition type
 * {@code P} and the record operations, and write the transaction markers {@link #endTxn} asks for.
 * Every operation here completes synchronously.
 *
 * <p>Locks, always taken in this order: the admin lock (topic create/delete/alter), a transaction
 * (see {@link #appendTransactional}), a partition or a group. Subclasses' partition locks come last.
 *
 * @param <P> the engine's partition state
 */
public abstract class CatalogStorage<P> implements Storage {
    /** The leader epoch stamped into every batch: a single node never changes leader. */
    protected static final int LEADER_EPOCH = 0;

    private final StorageContext context;
    private final InstantSource clock;
    private final String clusterId;

    private final Object adminLock = new Object();
    /** Changed under adminLock. */
    private final TopicCatalog<CatalogTopic<P>> catalog;

    private final GroupTable groups = new GroupTable();
    private final AtomicLong producerIds = new AtomicLong();
    private final TransactionTable txns = new TransactionTable(new TxnEngine(), producerIds::getAndIncrement);

    private volatile boolean closed;
    /** Kept in memory only, like everything else here. */
    private volatile SecurityState security = SecurityState.EMPTY;

    protected CatalogStorage(StorageContext context) {
        this.context = context;
        this.clock = context.clock();
        this.clusterId = context.clusterId() != null ? context.clusterId() : KafkaUuid.toString(KafkaUuid.random());
        this.catalog = new TopicCatalog<>(context.nodeId(), context.broker(), CatalogTopic::info);
    }

    // ---- what subclasses supply --------------------------------------------------------------

    /** A new, empty partition (topic creation, CreatePartitions). */
    protected abstract P newPartition(TopicPartition tp);

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

    // ---- what subclasses use -----------------------------------------------------------------

    protected final InstantSource clock() {
        return clock;
    }

    protected final boolean isClosed() {
        return closed;
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

    protected static <T> CompletableFuture<T> closedStage() {
        return Stages.failed(ErrorCode.KAFKA_STORAGE_ERROR, "storage is closed");
    }

    /**
     * Kafka's checks of one produced batch that every engine makes before storing it, with Kafka's errors: a whole
     * v2 batch (CORRUPT_MESSAGE), no larger than the topic's max.message.bytes (MESSAGE_TOO_LARGE), not a control
     * batch (INVALID_RECORD: only the coordinator writes markers). Null when the batch may be stored.
     */
    protected static <T> CompletableFuture<T> refusal(CatalogTopic<?> topic, TopicPartition tp, MemorySegment batch) {
        long size = batch.byteSize();
        if (size < RecordBatch.HEADER_SIZE || RecordBatch.lastOffsetDelta(batch) < 0
                || RecordBatch.sizeInBytes(batch) != size) {
            return Stages.failed(ErrorCode.CORRUPT_MESSAGE, "Malformed record batch of " + size + " bytes for " + tp);
        }
        if (size > topic.maxMessageBytes()) {
            return Stages.failed(ErrorCode.MESSAGE_TOO_LARGE, "The record batch size in the append to " + tp + " is "
                    + size + " bytes which exceeds the maximum configured value of " + topic.maxMessageBytes() + ".");
        }
        if (RecordBatch.isControl(batch)) {
            return Stages.failed(ErrorCode.INVALID_RECORD, "Clients may not write control batches (" + tp + ")");
        }
        return null;
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
            List<P> partitions = new ArrayList<>(partitionCount);
            for (int i = 0; i < partitionCount; i++) partitions.add(newPartition(new TopicPartition(name, i)));
            catalog.add(CatalogTopic.of(info, partitions));
            return info;
        }
    }

    /**
     * Runs {@code append} for a transactional batch under its transaction's lock, after checking that
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
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(catalog.brokers());
    }

    @Override
    public CompletionStage<Void> ping() {
        return closed ? closedStage() : Stages.DONE;
    }

    // ---- topics ----------------------------------------------------------------------------

    @Override
    public CompletionStage<TopicInfo> createTopic(NewTopic request, boolean validateOnly) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            synchronized (adminLock) {
                TopicInfo info = catalog.newTopic(request);
                if (!validateOnly) {
                    List<P> partitions = new ArrayList<>(info.partitionCount());
                    for (int i = 0; i < info.partitionCount(); i++) partitions.add(newPartition(new TopicPartition(info.name(), i)));
                    catalog.add(CatalogTopic.of(info, partitions));
                }
                return info;
            }
        });
    }

    @Override
    public CompletionStage<TopicInfo> deleteTopic(TopicRef ref) {
        if (closed) return closedStage();
        CatalogTopic<P> removed;
        synchronized (adminLock) {
            try {
                removed = catalog.remove(ref);
            } catch (StorageException e) {
                return Stages.failed(e);
            }
        }
        groups.removeTopic(removed.info().name());
        for (P p : removed.partitions()) onPartitionRemoved(p);
        return CompletableFuture.completedFuture(removed.info());
    }

    @Override
    public CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            synchronized (adminLock) {
                CatalogTopic<P> current = catalog.existing(topic);
                TopicInfo info = catalog.withPartitions(current, totalCount);
                if (!validateOnly) {
                    List<P> partitions = new ArrayList<>(current.partitions());
                    for (int i = partitions.size(); i < totalCount; i++) partitions.add(newPartition(new TopicPartition(topic, i)));
                    catalog.publish(CatalogTopic.of(info, partitions));
                }
                return info;
            }
        });
    }

    @Override
    public CompletionStage<List<TopicInfo>> listTopics() {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(catalog.list());
    }

    @Override
    public CompletionStage<List<TopicInfo>> describeTopics(Collection<? extends TopicRef> refs) {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(catalog.describe(refs));
    }

    @Override
    public CompletionStage<TopicInfo> alterTopicConfigs(String topic, List<ConfigOp> ops, boolean validateOnly) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            synchronized (adminLock) {
                CatalogTopic<P> current = catalog.existing(topic);
                TopicInfo info = catalog.withConfigs(current, ops);
                if (!validateOnly) catalog.publish(CatalogTopic.of(info, current.partitions()));
                return info;
            }
        });
    }

    // ---- committed offsets -------------------------------------------------------------------

    @Override
    public CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets) {
        if (closed) return closedStage();
        groups.commit(groupId, offsets, clock.millis());
        return Stages.DONE;
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
        if (closed) return closedStage();
        return Stages.of(() -> {
            groups.deleteOffsets(groupId, partitions);
            return null;
        });
    }

    // ---- consumer groups ---------------------------------------------------------------------

    @Override
    public CompletionStage<List<GroupListing>> listGroups() {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(groups.list());
    }

    @Override
    public CompletionStage<Optional<GroupState>> group(String groupId) {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(groups.group(groupId));
    }

    @Override
    public CompletionStage<GroupState> updateGroup(GroupState state) {
        if (closed) return closedStage();
        return Stages.of(() -> groups.update(state));
    }

    @Override
    public CompletionStage<Void> deleteGroup(String groupId) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            groups.delete(groupId);
            return null;
        });
    }

    // ---- producers and transactions ----------------------------------------------------------

    @Override
    public CompletionStage<ProducerIdAndEpoch> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                              ProducerIdAndEpoch expected) {
        if (closed) return closedStage();
        if (transactionalId == null) {
            return CompletableFuture.completedFuture(new ProducerIdAndEpoch(producerIds.getAndIncrement(), (short) 0));
        }
        return Stages.of(() -> txns.initProducerId(transactionalId, transactionTimeoutMs, expected, clock.millis()));
    }

    @Override
    public CompletionStage<Map<TopicPartition, Short>> addPartitionsToTxn(String transactionalId, ProducerIdAndEpoch producer,
                                                                          Collection<TopicPartition> partitions) {
        if (closed) return closedStage();
        return Stages.of(() -> txns.addPartitions(transactionalId, producer, partitions, clock.millis()));
    }

    @Override
    public CompletionStage<Void> addOffsetsToTxn(String transactionalId, ProducerIdAndEpoch producer, String groupId) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            txns.addOffsets(transactionalId, producer, groupId, clock.millis());
            return null;
        });
    }

    @Override
    public CompletionStage<Void> txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                                 List<OffsetCommit> offsets) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            txns.txnOffsetCommit(transactionalId, producer, groupId, offsets, clock.millis());
            return null;
        });
    }

    @Override
    public CompletionStage<ProducerIdAndEpoch> endTxn(String transactionalId, ProducerIdAndEpoch producer, boolean commit,
                                                      boolean bumpEpoch) {
        if (closed) return closedStage();
        return Stages.of(() -> txns.end(transactionalId, producer, commit, bumpEpoch));
    }

    @Override
    public CompletionStage<List<TransactionDescription>> describeTransactions(Collection<String> transactionalIds) {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(txns.describe(transactionalIds));
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
        }
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    @Override
    public CompletionStage<SecurityState> security() {
        return CompletableFuture.completedFuture(security);
    }

    @Override
    public CompletionStage<Void> saveSecurity(SecurityState state) {
        if (closed) {
            return closedStage();
        }
        security = state;
        return Stages.DONE;
    }

    @Override
    public CompletionStage<Void> maintain(long nowMs) {
        if (closed) return closedStage();
        txns.abortExpired(nowMs);
        groups.expireOffsets(nowMs);
        maintainRecords(nowMs);
        return Stages.DONE;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (CatalogTopic<P> t : catalog.all()) {
            for (P p : t.partitions()) onPartitionRemoved(p);
        }
    }
}
