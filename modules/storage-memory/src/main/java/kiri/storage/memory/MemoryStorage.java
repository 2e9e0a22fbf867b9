package kiri.storage.memory;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Stages;
import kiri.storage.api.StorageContext;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.Topics;
import kiri.storage.kit.CatalogStorage;
import kiri.storage.kit.CatalogTopic;
import kiri.storage.kit.ListOffsets;

/**
 * The memory engine: what a durable engine answers, without files. The catalogue (topics, groups,
 * offsets, producer ids, transactions) is {@link CatalogStorage}'s, shared with the null engine; this
 * class keeps the records ({@link MemoryPartition}). Every operation completes synchronously, so
 * produce returns the shared {@link Stages#DONE}.
 */
final class MemoryStorage extends CatalogStorage<MemoryPartition> {
    /** Kafka's default producer.id.expiration.ms: producer state idle for a day is dropped. */
    static final long PRODUCER_EXPIRATION_MS = 86_400_000L;
    /** Compacted topics' cleaner; housekeeping thread only. */
    private final MemoryCleaner cleaner = new MemoryCleaner();

    private final MemoryCap cap;

    /** With the default cap (half the heap). */
    MemoryStorage(StorageContext context) {
        this(context, new MemoryCap(MemoryCap.defaultMax()));
    }

    MemoryStorage(StorageContext context, MemoryCap cap) {
        super(context);
        this.cap = cap;
    }

    @Override
    public String describe() {
        return "memory:// (everything in memory, lost when the broker stops; max.bytes " + cap.max() + ")";
    }

    @Override
    protected MemoryPartition newPartition(TopicInfo topic, int index) {
        return new MemoryPartition(new TopicPartition(topic.name(), index), cap);
    }

    @Override
    protected void onPartitionRemoved(MemoryPartition partition) {
        partition.remove();
    }

    @Override
    protected void writeMarker(TopicPartition tp, MemoryPartition partition, ProducerIdAndEpoch producer, boolean commit) {
        partition.appendMarker(producer.producerId(), producer.epoch(), commit, LEADER_EPOCH, clock().millis());
        partition.signal();
    }

    // ---- records -----------------------------------------------------------------------------

    @Override
    public CompletionStage<Void> produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        return withPartition(tp, partition -> {
            CatalogTopic<MemoryPartition> topic = topic(tp.topic());
            if (topic == null) throw Topics.unknown(tp); // deleted meanwhile
            CompletableFuture<Void> refused = refusal(topic, tp, batch);
            if (refused != null) return refused;
            long appendTime = topic.logAppendTime() ? clock().millis() : -1L;
            if (RecordBatch.isTransactional(batch)) {
                appendTransactional(transactionalId, tp, batch, () -> {
                    partition.append(batch, LEADER_EPOCH, appendTime);
                    return null;
                });
            } else {
                partition.append(batch, LEADER_EPOCH, appendTime);
            }
            partition.signal();
            return Stages.DONE;
        });
    }

    @Override
    public CompletionStage<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, boolean minOneBatch,
                                              IsolationLevel isolation) {
        return withPartition(tp, partition -> Stages.of(() -> partition.fetch(offset, maxBytes, minOneBatch, isolation)));
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        return withPartition(tp, partition ->
                (isolation == IsolationLevel.READ_COMMITTED ? partition.committedWaiters : partition.uncommittedWaiters).await(offset));
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        return withPartition(tp, partition -> CompletableFuture.completedFuture(partition.offsets()));
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        return withPartition(tp, partition -> ListOffsets.resolve(tp, timestamp, partition.offsets(), isolation, partition));
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        return withPartition(tp, partition ->
                Stages.of(() -> partition.deleteBefore(beforeOffset == -1L ? partition.highWatermark() : beforeOffset)));
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        return withPartition(tp, partition -> CompletableFuture.completedFuture(partition.activeProducers()));
    }

    // ---- maintenance ---------------------------------------------------------------------------

    @Override
    protected void maintainRecords(long nowMs) {
        for (CatalogTopic<MemoryPartition> topic : topics()) {
            // cleanup.policy=compact alone keeps records until compacted away: no retention by time or size
            boolean deletes = TopicConfigs.listValue(topic.info().configs(), TopicConfigs.CLEANUP_POLICY).contains("delete");
            for (MemoryPartition p : topic.partitions()) {
                if (deletes) p.applyRetention(nowMs, topic.retentionMs(), topic.retentionBytes());
                p.expireProducers(nowMs, PRODUCER_EXPIRATION_MS);
                cleaner.cleanIfDue(p, topic.info().configs(), nowMs);
            }
        }
    }

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (isClosed()) return closedStage();
        Map<TopicPartition, Long> sizes = new LinkedHashMap<>();
        for (CatalogTopic<MemoryPartition> topic : topics()) {
            List<MemoryPartition> ps = topic.partitions();
            for (int i = 0; i < ps.size(); i++) sizes.put(new TopicPartition(topic.info().name(), i), ps.get(i).sizeInBytes());
        }
        return CompletableFuture.completedFuture(sizes);
    }
}
