package kiri.storage.api.base;

import java.lang.foreign.MemorySegment;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.ProducerEpochs;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.RecordBatchHeader;
import kiri.storage.api.Stages;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.storage.api.Topics;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;
import kiri.storage.api.VersionConflictException;

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
    private final ConcurrentHashMap<String, CatalogTopic<P>> byName = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<UUID, CatalogTopic<P>> byId = new ConcurrentHashMap<>();
    /** {@link Topics#collisionKey} -> topic name; guarded by adminLock. */
    private final Map<String, String> collisionKeys = new HashMap<>();

    private final ConcurrentHashMap<Integer, BrokerInfo> brokers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CatalogGroup> groups = new ConcurrentHashMap<>();
    /** Group versions come from one counter, so a deleted and re-created group never reuses a version (no ABA). */
    private final AtomicLong groupVersions = new AtomicLong();
    private final ConcurrentHashMap<String, CatalogTxn> txns = new ConcurrentHashMap<>();
    private final AtomicLong producerIds = new AtomicLong();

    private volatile boolean closed;

    protected CatalogStorage(StorageContext context) {
        this.context = context;
        this.clock = context.clock();
        this.clusterId = context.clusterId() != null ? context.clusterId() : KafkaUuid.toString(KafkaUuid.random());
        brokers.put(context.nodeId(), context.broker());
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
        return byName.get(name);
    }

    /** Every topic snapshot (a weakly consistent view). */
    protected final Collection<CatalogTopic<P>> topics() {
        return byName.values();
    }

    /** The partition, or null if it (or its topic) does not exist. */
    protected final P partition(TopicPartition tp) {
        CatalogTopic<P> t = byName.get(tp.topic());
        return t == null ? null : t.partition(tp.partition());
    }

    protected static <T> CompletableFuture<T> closedStage() {
        return Stages.failed(ErrorCodes.KAFKA_STORAGE_ERROR, "storage is closed");
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
            throw new StorageException(ErrorCodes.INVALID_RECORD, "Transactional batch for " + tp + " without a transactional id");
        }
        CatalogTxn txn = txns.get(transactionalId);
        if (txn == null) {
            throw new StorageException(ErrorCodes.INVALID_PRODUCER_ID_MAPPING, "Unknown transactional id '" + transactionalId + "'");
        }
        long pid = RecordBatchHeader.producerId(batch);
        short epoch = RecordBatchHeader.producerEpoch(batch);
        synchronized (txn) {
            if (pid != txn.producer.producerId()) {
                throw new StorageException(ErrorCodes.INVALID_PRODUCER_ID_MAPPING, "Producer id " + pid
                        + " is not the current producer of transactional id '" + transactionalId + "'");
            }
            if (epoch != txn.producer.epoch()) {
                throw new StorageException(ErrorCodes.INVALID_PRODUCER_EPOCH, "Epoch of producer " + pid + " is " + epoch
                        + ", but the current epoch is " + txn.producer.epoch());
            }
            txn.begin(clock.millis());
            txn.partitions.add(tp);
            return append.get();
        }
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
        brokers.put(broker.nodeId(), broker);
        return Stages.DONE;
    }

    @Override
    public CompletionStage<List<BrokerInfo>> brokers() {
        if (closed) return closedStage();
        List<BrokerInfo> list = new ArrayList<>(brokers.values());
        list.sort(Comparator.comparingInt(BrokerInfo::nodeId));
        return CompletableFuture.completedFuture(list);
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
                Topics.validateName(request.name());
                if (byName.containsKey(request.name())) throw Topics.alreadyExists(request.name());
                String clash = collisionKeys.get(Topics.collisionKey(request.name()));
                if (clash != null) throw Topics.collision(request.name(), clash);
                NewTopic topic = Topics.validate(request, brokers.size());
                UUID id = KafkaUuid.random();
                TopicInfo info = new TopicInfo(topic.name(), id, partitionInfos(0, topic.partitions(), List.of()),
                        topic.replicationFactor(), topic.configs());
                if (!validateOnly) {
                    List<P> partitions = new ArrayList<>(topic.partitions());
                    for (int i = 0; i < topic.partitions(); i++) partitions.add(newPartition(new TopicPartition(topic.name(), i)));
                    publish(CatalogTopic.of(info, partitions));
                    collisionKeys.put(Topics.collisionKey(topic.name()), topic.name());
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
            removed = lookup(ref);
            if (removed == null) return Stages.failed(Topics.unknown(ref));
            byName.remove(removed.info().name());
            byId.remove(removed.info().id());
            collisionKeys.remove(Topics.collisionKey(removed.info().name()));
        }
        String name = removed.info().name();
        for (CatalogGroup g : groups.values()) {
            synchronized (g) {
                g.offsets.keySet().removeIf(tp -> tp.topic().equals(name));
            }
        }
        for (P p : removed.partitions()) onPartitionRemoved(p);
        return CompletableFuture.completedFuture(removed.info());
    }

    @Override
    public CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            synchronized (adminLock) {
                CatalogTopic<P> current = byName.get(topic);
                if (current == null) throw Topics.unknown(TopicRef.of(topic));
                int have = current.partitions().size();
                Topics.validatePartitionIncrease(topic, have, totalCount);
                TopicInfo old = current.info();
                TopicInfo info = new TopicInfo(old.name(), old.id(), partitionInfos(have, totalCount, old.partitions()),
                        old.replicationFactor(), old.configs());
                if (!validateOnly) {
                    List<P> partitions = new ArrayList<>(current.partitions());
                    for (int i = have; i < totalCount; i++) partitions.add(newPartition(new TopicPartition(topic, i)));
                    publish(CatalogTopic.of(info, partitions));
                }
                return info;
            }
        });
    }

    @Override
    public CompletionStage<List<TopicInfo>> listTopics() {
        if (closed) return closedStage();
        TreeMap<String, TopicInfo> sorted = new TreeMap<>();
        for (CatalogTopic<P> t : byName.values()) sorted.put(t.info().name(), t.info());
        return CompletableFuture.completedFuture(new ArrayList<>(sorted.values()));
    }

    @Override
    public CompletionStage<List<TopicInfo>> describeTopics(Collection<? extends TopicRef> refs) {
        if (closed) return closedStage();
        List<TopicInfo> out = new ArrayList<>(refs.size());
        for (TopicRef ref : refs) {
            CatalogTopic<P> t = lookup(ref);
            if (t != null) out.add(t.info());
        }
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletionStage<TopicInfo> alterTopicConfigs(String topic, List<ConfigOp> ops, boolean validateOnly) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            synchronized (adminLock) {
                CatalogTopic<P> current = byName.get(topic);
                if (current == null) throw Topics.unknown(TopicRef.of(topic));
                TopicInfo old = current.info();
                Map<String, String> configs = TopicConfigs.apply(old.configs(), ops);
                TopicInfo info = new TopicInfo(old.name(), old.id(), old.partitions(), old.replicationFactor(), configs);
                if (!validateOnly) publish(CatalogTopic.of(info, current.partitions()));
                return info;
            }
        });
    }

    private void publish(CatalogTopic<P> topic) {
        byName.put(topic.info().name(), topic);
        byId.put(topic.info().id(), topic);
    }

    private CatalogTopic<P> lookup(TopicRef ref) {
        return switch (ref) {
            case TopicRef.Name(String name) -> byName.get(name);
            case TopicRef.Id(UUID id) -> byId.get(id);
        };
    }

    private List<PartitionInfo> partitionInfos(int from, int to, List<PartitionInfo> existing) {
        List<PartitionInfo> out = new ArrayList<>(to);
        out.addAll(existing);
        for (int i = from; i < to; i++) out.add(PartitionInfo.singleNode(i, context.nodeId()));
        return out;
    }

    // ---- committed offsets -------------------------------------------------------------------

    @Override
    public CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets) {
        if (closed) return closedStage();
        long now = clock.millis();
        while (true) {
            CatalogGroup g = groups.computeIfAbsent(groupId, k -> new CatalogGroup());
            synchronized (g) {
                if (g.dead) continue;
                for (OffsetCommit c : offsets) g.offsets.put(c.partition(), committed(c, now));
                return Stages.DONE;
            }
        }
    }

    private static CommittedOffset committed(OffsetCommit c, long now) {
        return new CommittedOffset(c.offset(), c.leaderEpoch(), c.metadata(), now, c.expireAtMs());
    }

    @Override
    public CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId, Collection<TopicPartition> partitions,
                                                                              boolean requireStable) {
        if (closed) return closedStage();
        if (requireStable) {
            for (CatalogTxn txn : txns.values()) {
                synchronized (txn) {
                    Map<TopicPartition, OffsetCommit> pending = txn.pendingOffsets.get(groupId);
                    if (pending == null || txn.state != TransactionState.ONGOING) continue;
                    for (TopicPartition tp : pending.keySet()) {
                        if (partitions == null || partitions.contains(tp)) {
                            return Stages.failed(ErrorCodes.UNSTABLE_OFFSET_COMMIT, "There are unstable offsets for "
                                    + tp + " in group '" + groupId + "' (open transaction '" + txn.id + "')");
                        }
                    }
                }
            }
        }
        CatalogGroup g = groups.get(groupId);
        Map<TopicPartition, CommittedOffset> out = new LinkedHashMap<>();
        if (g != null) {
            synchronized (g) {
                if (partitions == null) {
                    out.putAll(g.offsets);
                } else {
                    for (TopicPartition tp : partitions) {
                        CommittedOffset c = g.offsets.get(tp);
                        if (c != null) out.put(tp, c);
                    }
                }
            }
        }
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletionStage<Void> deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        if (closed) return closedStage();
        CatalogGroup g = groups.get(groupId);
        if (g == null) return Stages.failed(ErrorCodes.GROUP_ID_NOT_FOUND, "Group '" + groupId + "' does not exist");
        synchronized (g) {
            if (g.dead || g.isEmpty()) return Stages.failed(ErrorCodes.GROUP_ID_NOT_FOUND, "Group '" + groupId + "' does not exist");
            partitions.forEach(g.offsets::remove);
        }
        return Stages.DONE;
    }

    // ---- consumer groups ---------------------------------------------------------------------

    @Override
    public CompletionStage<List<GroupListing>> listGroups() {
        if (closed) return closedStage();
        TreeMap<String, GroupListing> out = new TreeMap<>();
        groups.forEach((id, g) -> {
            synchronized (g) {
                if (!g.dead && !g.isEmpty()) out.put(id, (g.state != null ? g.state : GroupState.offsetsOnly(id)).listing());
            }
        });
        return CompletableFuture.completedFuture(new ArrayList<>(out.values()));
    }

    @Override
    public CompletionStage<Optional<GroupState>> group(String groupId) {
        if (closed) return closedStage();
        CatalogGroup g = groups.get(groupId);
        Optional<GroupState> out = Optional.empty();
        if (g != null) {
            synchronized (g) {
                if (!g.dead && !g.isEmpty()) out = Optional.of(g.state != null ? g.state : GroupState.offsetsOnly(groupId));
            }
        }
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletionStage<GroupState> updateGroup(GroupState state) {
        if (closed) return closedStage();
        while (true) {
            CatalogGroup g = groups.computeIfAbsent(state.groupId(), k -> new CatalogGroup());
            synchronized (g) {
                if (g.dead) continue;
                long stored = g.state == null ? GroupState.NO_VERSION : g.state.version();
                if (stored != state.version()) {
                    return Stages.failed(new VersionConflictException("group " + state.groupId(), state.version(), stored));
                }
                g.state = state.withVersion(groupVersions.incrementAndGet());
                return CompletableFuture.completedFuture(g.state);
            }
        }
    }

    @Override
    public CompletionStage<Void> deleteGroup(String groupId) {
        if (closed) return closedStage();
        CatalogGroup g = groups.get(groupId);
        if (g == null) return Stages.failed(ErrorCodes.GROUP_ID_NOT_FOUND, "Group '" + groupId + "' does not exist");
        synchronized (g) {
            if (g.dead || g.isEmpty()) return Stages.failed(ErrorCodes.GROUP_ID_NOT_FOUND, "Group '" + groupId + "' does not exist");
            if (g.state != null && !g.state.isDeletable()) {
                return Stages.failed(ErrorCodes.NON_EMPTY_GROUP, "Group '" + groupId + "' is not empty (state "
                        + g.state.state() + ")");
            }
            g.dead = true;
            groups.remove(groupId, g);
        }
        return Stages.DONE;
    }

    // ---- producers and transactions ----------------------------------------------------------

    @Override
    public CompletionStage<ProducerIdAndEpoch> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                              ProducerIdAndEpoch expected) {
        if (closed) return closedStage();
        if (transactionalId == null) {
            return CompletableFuture.completedFuture(new ProducerIdAndEpoch(producerIds.getAndIncrement(), (short) 0));
        }
        if (transactionTimeoutMs <= 0) {
            return Stages.failed(ErrorCodes.INVALID_TRANSACTION_TIMEOUT, "Transaction timeout must be positive: " + transactionTimeoutMs);
        }
        CatalogTxn txn = txns.computeIfAbsent(transactionalId, CatalogTxn::new);
        return Stages.of(() -> {
            synchronized (txn) {
                ProducerIdAndEpoch next = ProducerEpochs.reinit(txn.producer, txn.previous, expected, producerIds::getAndIncrement);
                if (next.equals(txn.producer)) return next; // a retried bump: already done
                if (txn.state == TransactionState.ONGOING) end(txn, false);
                txn.previous = txn.producer;
                txn.producer = next;
                txn.timeoutMs = transactionTimeoutMs;
                txn.state = TransactionState.EMPTY;
                return next;
            }
        });
    }

    /** The transactional id's state; the caller verifies the producer under its lock. */
    private CatalogTxn txn(String transactionalId) {
        CatalogTxn txn = txns.get(transactionalId);
        if (txn == null) {
            throw new StorageException(ErrorCodes.INVALID_PRODUCER_ID_MAPPING, "Unknown transactional id '" + transactionalId + "'");
        }
        return txn;
    }

    @Override
    public CompletionStage<Map<TopicPartition, Short>> addPartitionsToTxn(String transactionalId, ProducerIdAndEpoch producer,
                                                                          Collection<TopicPartition> partitions) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            CatalogTxn txn = txn(transactionalId);
            synchronized (txn) {
                ProducerEpochs.verify(transactionalId, txn.producer, producer);
                Map<TopicPartition, Short> errors = new LinkedHashMap<>();
                boolean missing = false;
                for (TopicPartition tp : partitions) {
                    boolean exists = partition(tp) != null;
                    missing |= !exists;
                    errors.put(tp, exists ? ErrorCodes.OPERATION_NOT_ATTEMPTED : ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION);
                }
                if (missing) return errors;
                txn.begin(clock.millis());
                txn.partitions.addAll(partitions);
                return Map.of();
            }
        });
    }

    @Override
    public CompletionStage<Void> addOffsetsToTxn(String transactionalId, ProducerIdAndEpoch producer, String groupId) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            CatalogTxn txn = txn(transactionalId);
            synchronized (txn) {
                ProducerEpochs.verify(transactionalId, txn.producer, producer);
                txn.begin(clock.millis());
                txn.pendingOffsets.computeIfAbsent(groupId, k -> new LinkedHashMap<>());
                return null;
            }
        });
    }

    @Override
    public CompletionStage<Void> txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                                 List<OffsetCommit> offsets) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            CatalogTxn txn = txn(transactionalId);
            synchronized (txn) {
                ProducerEpochs.verify(transactionalId, txn.producer, producer);
                txn.begin(clock.millis());
                Map<TopicPartition, OffsetCommit> pending = txn.pendingOffsets.computeIfAbsent(groupId, k -> new LinkedHashMap<>());
                for (OffsetCommit c : offsets) pending.put(c.partition(), c);
                return null;
            }
        });
    }

    @Override
    public CompletionStage<ProducerIdAndEpoch> endTxn(String transactionalId, ProducerIdAndEpoch producer, boolean commit,
                                                      boolean bumpEpoch) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            CatalogTxn txn = txn(transactionalId);
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
                            throw new StorageException(ErrorCodes.INVALID_TXN_STATE, "Cannot " + (commit ? "commit" : "abort")
                                    + " transactional id '" + transactionalId + "' in state " + txn.state.kafkaName());
                        }
                        if (retry && bumpEpoch) return txn.producer; // no second bump for a retry
                    }
                    default -> throw new StorageException(ErrorCodes.CONCURRENT_TRANSACTIONS,
                            "Transactional id '" + transactionalId + "' is in state " + txn.state.kafkaName());
                }
                if (bumpEpoch) {
                    txn.previous = txn.producer;
                    txn.producer = ProducerEpochs.bump(txn.producer, producerIds::getAndIncrement);
                }
                return txn.producer;
            }
        });
    }

    /** Ends the open transaction (caller holds the txn lock): a marker per partition, then the pending offsets. */
    private void end(CatalogTxn txn, boolean commit) {
        for (TopicPartition tp : txn.partitions) {
            P partition = partition(tp);
            if (partition == null) continue; // deleted meanwhile
            writeMarker(tp, partition, txn.producer, commit);
        }
        if (commit) {
            txn.pendingOffsets.forEach((groupId, offsets) -> {
                if (!offsets.isEmpty()) commitOffsets(groupId, List.copyOf(offsets.values()));
            });
        }
        txn.partitions.clear();
        txn.pendingOffsets.clear();
        txn.state = commit ? TransactionState.COMPLETE_COMMIT : TransactionState.COMPLETE_ABORT;
    }

    @Override
    public CompletionStage<List<TransactionDescription>> describeTransactions(Collection<String> transactionalIds) {
        if (closed) return closedStage();
        List<TransactionDescription> out = new ArrayList<>();
        Collection<String> ids = transactionalIds != null ? transactionalIds : new TreeSet<>(txns.keySet());
        for (String id : ids) {
            CatalogTxn txn = txns.get(id);
            if (txn == null) continue;
            synchronized (txn) {
                if (!txn.producer.isNone()) out.add(txn.describe());
            }
        }
        return CompletableFuture.completedFuture(out);
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    @Override
    public CompletionStage<Void> maintain(long nowMs) {
        if (closed) return closedStage();
        for (CatalogTxn txn : txns.values()) {
            synchronized (txn) {
                if (txn.state == TransactionState.ONGOING && nowMs - txn.startMs > txn.timeoutMs) {
                    // As Kafka: abort and bump the epoch so that the late producer is fenced.
                    end(txn, false);
                    txn.previous = txn.producer;
                    txn.producer = ProducerEpochs.bump(txn.producer, producerIds::getAndIncrement);
                }
            }
        }
        for (CatalogGroup g : groups.values()) {
            synchronized (g) {
                if (g.state != null && !g.state.isDeletable()) continue; // never expire offsets of a group with members
                g.offsets.values().removeIf(c -> c.expireAtMs() >= 0 && nowMs >= c.expireAtMs());
            }
        }
        maintainRecords(nowMs);
        return Stages.DONE;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (CatalogTopic<P> t : byName.values()) {
            for (P p : t.partitions()) onPartitionRemoved(p);
        }
    }
}
