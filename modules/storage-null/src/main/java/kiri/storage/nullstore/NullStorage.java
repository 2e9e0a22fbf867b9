package kiri.storage.nullstore;

import java.lang.foreign.MemorySegment;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
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
import kiri.storage.api.GroupTable;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.PartitionOffsets;
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
import kiri.storage.api.TransactionTable;

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
    private final GroupTable groups = new GroupTable();
    private final AtomicLong producerIds = new AtomicLong();
    private final TransactionTable txns = new TransactionTable(new TransactionTable.Engine() {
        @Override
        public boolean partitionExists(TopicPartition tp) {
            return partition(tp) != null;
        }

        @Override
        public void writeMarker(TopicPartition tp, ProducerIdAndEpoch producer, boolean commit) {
            NullPartition partition = partition(tp);
            if (partition == null) return; // deleted meanwhile
            partition.writeMarker(producer.producerId());
            partition.waiters.signal();
        }

        @Override
        public void commitOffsets(String groupId, List<OffsetCommit> offsets) {
            groups.commit(groupId, offsets, clock.millis());
        }
    }, producerIds::getAndIncrement);

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
        groups.removeTopic(name);
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
        long pid = RecordBatchHeader.producerId(batch);
        short epoch = RecordBatchHeader.producerEpoch(batch);
        NullPartition partition = topic.partitions()[tp.partition()];
        long base;
        try {
            base = txns.produce(transactionalId, tp, pid, epoch, clock.millis(),
                    () -> partition.reserveTransactional(pid, epoch, RecordBatchHeader.lastOffsetDelta(batch) + 1L));
        } catch (StorageException e) {
            return Stages.failed(e);
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
        txns.abortExpired(nowMs); // as Kafka: abort and bump the epoch so that the late producer is fenced
        groups.expireOffsets(nowMs);
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
