package kiri.storage.nullstore;

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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.FetchResult;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.PartitionOffsets;
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
 * The null engine. Everything but record bytes is kept in memory, so it answers every operation
 * consistently; every operation completes synchronously.
 *
 * <p>Produce is one map lookup, one atomic add and one 8-byte write, and returns the shared
 * {@link Stages#DONE}: no locks, no allocation. Consequence, by design: producer sequences are not
 * checked here (that needs a per-partition lock; a retried batch simply gets new offsets, which costs
 * nothing when nothing is stored). Engines that keep records use
 * {@link kiri.storage.api.PartitionProducerState}. Transactional batches take a slower path that
 * tracks open transactions, so that last stable offsets and transaction markers stay consistent.
 *
 * <p>Locks, always taken in this order: {@code adminLock} (topic create/delete/alter), a transaction,
 * a partition or a group. None is held while calling out.
 */
final class NullStorage implements Storage {
    private static final int LEADER_EPOCH = 0;

    private final StorageContext context;
    private final InstantSource clock;
    private final String clusterId;

    private final Object adminLock = new Object();
    private final ConcurrentHashMap<String, NullTopic> byName = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<UUID, NullTopic> byId = new ConcurrentHashMap<>();
    /** {@link Topics#collisionKey} -> topic name; guarded by adminLock. */
    private final Map<String, String> collisionKeys = new HashMap<>();

    private final ConcurrentHashMap<Integer, BrokerInfo> brokers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, NullGroup> groups = new ConcurrentHashMap<>();
    /** Group versions come from one counter, so a deleted and re-created group never reuses a version (no ABA). */
    private final AtomicLong groupVersions = new AtomicLong();
    private final ConcurrentHashMap<String, NullTxn> txns = new ConcurrentHashMap<>();
    private final AtomicLong producerIds = new AtomicLong();

    private volatile boolean closed;

    NullStorage(StorageContext context) {
        this.context = context;
        this.clock = context.clock();
        this.clusterId = context.clusterId() != null ? context.clusterId() : KafkaUuid.toString(KafkaUuid.random());
        brokers.put(context.nodeId(), context.broker());
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
    public String describe() {
        return "null:// (topics, groups and offsets in memory; records are discarded)";
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
                    NullPartition[] partitions = new NullPartition[topic.partitions()];
                    for (int i = 0; i < partitions.length; i++) partitions[i] = new NullPartition();
                    publish(NullTopic.of(info, partitions));
                    collisionKeys.put(Topics.collisionKey(topic.name()), topic.name());
                }
                return info;
            }
        });
    }

    @Override
    public CompletionStage<TopicInfo> deleteTopic(TopicRef ref) {
        if (closed) return closedStage();
        NullTopic removed;
        synchronized (adminLock) {
            removed = lookup(ref);
            if (removed == null) return Stages.failed(Topics.unknown(ref));
            byName.remove(removed.info().name());
            byId.remove(removed.info().id());
            collisionKeys.remove(Topics.collisionKey(removed.info().name()));
        }
        String name = removed.info().name();
        for (NullGroup g : groups.values()) {
            synchronized (g) {
                g.offsets.keySet().removeIf(tp -> tp.topic().equals(name));
            }
        }
        for (NullPartition p : removed.partitions()) p.waiters.wakeAll();
        return CompletableFuture.completedFuture(removed.info());
    }

    @Override
    public CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            synchronized (adminLock) {
                NullTopic current = byName.get(topic);
                if (current == null) throw Topics.unknown(TopicRef.of(topic));
                int have = current.partitions().length;
                Topics.validatePartitionIncrease(topic, have, totalCount);
                TopicInfo old = current.info();
                TopicInfo info = new TopicInfo(old.name(), old.id(), partitionInfos(have, totalCount, old.partitions()),
                        old.replicationFactor(), old.configs());
                if (!validateOnly) {
                    NullPartition[] partitions = java.util.Arrays.copyOf(current.partitions(), totalCount);
                    for (int i = have; i < totalCount; i++) partitions[i] = new NullPartition();
                    publish(NullTopic.of(info, partitions));
                }
                return info;
            }
        });
    }

    @Override
    public CompletionStage<List<TopicInfo>> listTopics() {
        if (closed) return closedStage();
        TreeMap<String, TopicInfo> sorted = new TreeMap<>();
        for (NullTopic t : byName.values()) sorted.put(t.info().name(), t.info());
        return CompletableFuture.completedFuture(new ArrayList<>(sorted.values()));
    }

    @Override
    public CompletionStage<List<TopicInfo>> describeTopics(Collection<? extends TopicRef> refs) {
        if (closed) return closedStage();
        List<TopicInfo> out = new ArrayList<>(refs.size());
        for (TopicRef ref : refs) {
            NullTopic t = lookup(ref);
            if (t != null) out.add(t.info());
        }
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletionStage<TopicInfo> alterTopicConfigs(String topic, List<ConfigOp> ops, boolean validateOnly) {
        if (closed) return closedStage();
        return Stages.of(() -> {
            synchronized (adminLock) {
                NullTopic current = byName.get(topic);
                if (current == null) throw Topics.unknown(TopicRef.of(topic));
                TopicInfo old = current.info();
                Map<String, String> configs = TopicConfigs.apply(old.configs(), ops);
                TopicInfo info = new TopicInfo(old.name(), old.id(), old.partitions(), old.replicationFactor(), configs);
                if (!validateOnly) publish(NullTopic.of(info, current.partitions()));
                return info;
            }
        });
    }

    private void publish(NullTopic topic) {
        byName.put(topic.info().name(), topic);
        byId.put(topic.info().id(), topic);
    }

    private NullTopic lookup(TopicRef ref) {
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

    /** The partition, or null if it (or its topic) does not exist. */
    private NullPartition partition(TopicPartition tp) {
        NullTopic t = byName.get(tp.topic());
        if (t == null) return null;
        int p = tp.partition();
        NullPartition[] ps = t.partitions();
        return p >= 0 && p < ps.length ? ps[p] : null;
    }

    // ---- records -----------------------------------------------------------------------------

    @Override
    public CompletionStage<Void> produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        NullTopic topic = byName.get(tp.topic());
        int p = tp.partition();
        if (topic == null || p < 0 || p >= topic.partitions().length || closed) return produceFailure(tp);
        long size = batch.byteSize();
        int delta;
        if (size < RecordBatchHeader.HEADER_SIZE || size > topic.maxMessageBytes()
                || (delta = RecordBatchHeader.lastOffsetDelta(batch)) < 0
                || (RecordBatchHeader.attributes(batch) & (RecordBatchHeader.TRANSACTIONAL_FLAG | RecordBatchHeader.CONTROL_FLAG)) != 0) {
            return produceSlow(transactionalId, topic, tp, batch);
        }
        NullPartition partition = topic.partitions()[p];
        long base = partition.reserve(delta + 1L);
        stamp(topic, batch, base);
        partition.waiters.signal();
        return Stages.DONE;
    }

    private void stamp(NullTopic topic, MemorySegment batch, long base) {
        RecordBatchHeader.setBaseOffset(batch, base);
        RecordBatchHeader.setPartitionLeaderEpoch(batch, LEADER_EPOCH);
        if (topic.logAppendTime()) RecordBatchHeader.setLogAppendTime(batch, clock.millis());
    }

    private CompletionStage<Void> produceFailure(TopicPartition tp) {
        return closed ? closedStage() : Stages.failed(Topics.unknown(tp));
    }

    /** Oversized, malformed, control or transactional batches. */
    private CompletionStage<Void> produceSlow(String transactionalId, NullTopic topic, TopicPartition tp, MemorySegment batch) {
        long size = batch.byteSize();
        if (size < RecordBatchHeader.HEADER_SIZE || RecordBatchHeader.lastOffsetDelta(batch) < 0) {
            return Stages.failed(ErrorCodes.CORRUPT_MESSAGE, "Malformed record batch of " + size + " bytes for " + tp);
        }
        if (size > topic.maxMessageBytes()) {
            return Stages.failed(ErrorCodes.MESSAGE_TOO_LARGE, "The record batch size in the append to " + tp + " is "
                    + size + " bytes which exceeds the maximum configured value of " + topic.maxMessageBytes() + ".");
        }
        if (RecordBatchHeader.isControl(batch)) {
            return Stages.failed(ErrorCodes.INVALID_RECORD, "Clients may not write control batches (" + tp + ")");
        }
        if (transactionalId == null) {
            return Stages.failed(ErrorCodes.INVALID_RECORD, "Transactional batch for " + tp + " without a transactional id");
        }
        NullTxn txn = txns.get(transactionalId);
        if (txn == null) {
            return Stages.failed(ErrorCodes.INVALID_PRODUCER_ID_MAPPING, "Unknown transactional id '" + transactionalId + "'");
        }
        long pid = RecordBatchHeader.producerId(batch);
        short epoch = RecordBatchHeader.producerEpoch(batch);
        NullPartition partition = topic.partitions()[tp.partition()];
        long base;
        synchronized (txn) {
            if (pid != txn.producer.producerId()) {
                return Stages.failed(ErrorCodes.INVALID_PRODUCER_ID_MAPPING, "Producer id " + pid
                        + " is not the current producer of transactional id '" + transactionalId + "'");
            }
            if (epoch != txn.producer.epoch()) {
                return Stages.failed(ErrorCodes.INVALID_PRODUCER_EPOCH, "Epoch of producer " + pid + " is " + epoch
                        + ", but the current epoch is " + txn.producer.epoch());
            }
            txn.begin(clock.millis());
            txn.partitions.add(tp);
            base = partition.reserveTransactional(pid, epoch, RecordBatchHeader.lastOffsetDelta(batch) + 1L);
        }
        stamp(topic, batch, base);
        partition.waiters.signal();
        return Stages.DONE;
    }

    @Override
    public CompletionStage<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, boolean minOneBatch,
                                              IsolationLevel isolation) {
        if (closed) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        PartitionOffsets offsets = partition.offsets();
        if (offset < offsets.logStartOffset() || offset > offsets.highWatermark()) {
            return Stages.failed(outOfRange(tp, offset, offsets));
        }
        return CompletableFuture.completedFuture(FetchResult.empty(offsets));
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        if (closed) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        // Nothing is ever returned, so "data at offset" would wake at once forever for a consumer behind
        // the high watermark: wait for the next append instead.
        return partition.waiters.await(Math.max(offset, partition.highWatermark()));
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        if (closed) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(partition.offsets());
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        if (closed) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        PartitionOffsets offsets = partition.offsets();
        if (timestamp == OffsetSpec.LATEST) {
            return CompletableFuture.completedFuture(new OffsetAndTimestamp(offsets.fetchableEnd(isolation), -1L, LEADER_EPOCH));
        }
        if (timestamp == OffsetSpec.EARLIEST || timestamp == OffsetSpec.EARLIEST_LOCAL) {
            return CompletableFuture.completedFuture(new OffsetAndTimestamp(offsets.logStartOffset(), -1L, LEADER_EPOCH));
        }
        if (timestamp >= 0 || timestamp == OffsetSpec.MAX_TIMESTAMP || timestamp == OffsetSpec.LATEST_TIERED) {
            return CompletableFuture.completedFuture(OffsetAndTimestamp.UNKNOWN); // no record is kept to have a timestamp
        }
        return Stages.failed(ErrorCodes.INVALID_REQUEST, "Unknown ListOffsets timestamp " + timestamp + " for " + tp);
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        if (closed) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        long hwm = partition.highWatermark();
        long before = beforeOffset == -1L ? hwm : beforeOffset;
        if (before < 0 || before > hwm) {
            return Stages.failed(ErrorCodes.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp + " before offset "
                    + beforeOffset + ": the high watermark is " + hwm);
        }
        return CompletableFuture.completedFuture(partition.advanceLogStart(before));
    }

    private static StorageException outOfRange(TopicPartition tp, long offset, PartitionOffsets offsets) {
        return new StorageException(ErrorCodes.OFFSET_OUT_OF_RANGE, "Fetch position " + offset + " is out of range for "
                + tp + " (log start offset " + offsets.logStartOffset() + ", high watermark " + offsets.highWatermark() + ")");
    }

    // ---- committed offsets -------------------------------------------------------------------

    @Override
    public CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets) {
        if (closed) return closedStage();
        long now = clock.millis();
        while (true) {
            NullGroup g = groups.computeIfAbsent(groupId, k -> new NullGroup());
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
            for (NullTxn txn : txns.values()) {
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
        NullGroup g = groups.get(groupId);
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
        NullGroup g = groups.get(groupId);
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
        NullGroup g = groups.get(groupId);
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
            NullGroup g = groups.computeIfAbsent(state.groupId(), k -> new NullGroup());
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
        NullGroup g = groups.get(groupId);
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
        NullTxn txn = txns.computeIfAbsent(transactionalId, NullTxn::new);
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
    private NullTxn txn(String transactionalId) {
        NullTxn txn = txns.get(transactionalId);
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
            NullTxn txn = txn(transactionalId);
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
            NullTxn txn = txn(transactionalId);
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
            NullTxn txn = txn(transactionalId);
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
            NullTxn txn = txn(transactionalId);
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
    private void end(NullTxn txn, boolean commit) {
        long pid = txn.producer.producerId();
        for (TopicPartition tp : txn.partitions) {
            NullPartition partition = partition(tp);
            if (partition == null) continue; // deleted meanwhile
            partition.writeMarker(pid);
            partition.waiters.signal();
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
        Collection<String> ids = transactionalIds != null ? transactionalIds : new java.util.TreeSet<>(txns.keySet());
        for (String id : ids) {
            NullTxn txn = txns.get(id);
            if (txn == null) continue;
            synchronized (txn) {
                if (!txn.producer.isNone()) out.add(txn.describe());
            }
        }
        return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        if (closed) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(partition.activeProducers());
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    @Override
    public CompletionStage<Void> maintain(long nowMs) {
        if (closed) return closedStage();
        for (NullTxn txn : txns.values()) {
            synchronized (txn) {
                if (txn.state == TransactionState.ONGOING && nowMs - txn.startMs > txn.timeoutMs) {
                    // As Kafka: abort and bump the epoch so that the late producer is fenced.
                    end(txn, false);
                    txn.previous = txn.producer;
                    txn.producer = ProducerEpochs.bump(txn.producer, producerIds::getAndIncrement);
                }
            }
        }
        for (NullGroup g : groups.values()) {
            synchronized (g) {
                if (g.state != null && !g.state.isDeletable()) continue; // never expire offsets of a group with members
                g.offsets.values().removeIf(c -> c.expireAtMs() >= 0 && nowMs >= c.expireAtMs());
            }
        }
        return Stages.DONE;
    }

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(Map.of());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (NullTopic t : byName.values()) {
            for (NullPartition p : t.partitions()) p.waiters.wakeAll();
        }
    }

    private static <T> CompletableFuture<T> closedStage() {
        return Stages.failed(ErrorCodes.KAFKA_STORAGE_ERROR, "storage is closed");
    }
}
