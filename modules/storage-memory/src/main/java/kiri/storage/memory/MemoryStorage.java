package kiri.storage.memory;

import kiri.protocol.ErrorCode;
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
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Stages;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.Topics;
import kiri.storage.api.base.CatalogStorage;
import kiri.storage.api.base.CatalogTopic;

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
    protected MemoryPartition newPartition(TopicPartition tp) {
        return new MemoryPartition(tp, cap);
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
        if (isClosed()) return closedStage();
        CatalogTopic<MemoryPartition> topic = topic(tp.topic());
        MemoryPartition partition = topic == null ? null : topic.partition(tp.partition());
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        CompletableFuture<Void> refused = refusal(topic, tp, batch);
        if (refused != null) return refused;
        long appendTime = topic.logAppendTime() ? clock().millis() : -1L;
        try {
            if (RecordBatch.isTransactional(batch)) {
                appendTransactional(transactionalId, tp, batch, () -> {
                    partition.append(batch, LEADER_EPOCH, appendTime);
                    return null;
                });
            } else {
                partition.append(batch, LEADER_EPOCH, appendTime);
            }
        } catch (StorageException e) {
            return Stages.failed(e);
        }
        partition.signal();
        return Stages.DONE;
    }

    @Override
    public CompletionStage<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, boolean minOneBatch,
                                              IsolationLevel isolation) {
        if (isClosed()) return closedStage();
        MemoryPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return Stages.of(() -> partition.fetch(offset, maxBytes, minOneBatch, isolation));
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        if (isClosed()) return closedStage();
        MemoryPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return (isolation == IsolationLevel.READ_COMMITTED ? partition.committedWaiters : partition.uncommittedWaiters)
                .await(offset);
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        if (isClosed()) return closedStage();
        MemoryPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(partition.offsets());
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        if (isClosed()) return closedStage();
        MemoryPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        PartitionOffsets offsets = partition.offsets();
        long end = offsets.fetchableEnd(isolation);
        OffsetAndTimestamp found;
        if (timestamp == OffsetSpec.LATEST) {
            found = new OffsetAndTimestamp(end, -1L, LEADER_EPOCH);
        } else if (timestamp == OffsetSpec.EARLIEST || timestamp == OffsetSpec.EARLIEST_LOCAL) {
            found = new OffsetAndTimestamp(offsets.logStartOffset(), -1L, LEADER_EPOCH);
        } else if (timestamp == OffsetSpec.MAX_TIMESTAMP) {
            found = partition.maxTimestamp(end, LEADER_EPOCH);
        } else if (timestamp == OffsetSpec.LATEST_TIERED) {
            found = OffsetAndTimestamp.UNKNOWN; // no tiered storage
        } else if (timestamp >= 0) {
            found = partition.findByTimestamp(timestamp, end, LEADER_EPOCH);
        } else {
            return Stages.failed(ErrorCode.INVALID_REQUEST, "Unknown ListOffsets timestamp " + timestamp + " for " + tp);
        }
        return CompletableFuture.completedFuture(found);
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        if (isClosed()) return closedStage();
        MemoryPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return Stages.of(() -> partition.deleteBefore(beforeOffset == -1L ? partition.highWatermark() : beforeOffset));
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        if (isClosed()) return closedStage();
        MemoryPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(partition.activeProducers());
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
