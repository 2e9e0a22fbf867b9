package kiri.storage.nullstore;

import kiri.protocol.ErrorCode;
import java.lang.foreign.MemorySegment;
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
import kiri.storage.api.TopicPartition;
import kiri.storage.api.Topics;
import kiri.storage.api.base.CatalogStorage;
import kiri.storage.api.base.CatalogTopic;

/**
 * The null engine. Everything but record bytes is kept in memory ({@link CatalogStorage}, shared with
 * the memory engine), so it answers every operation consistently; every operation completes synchronously.
 *
 * <p>Produce is one map lookup, one atomic add and one 8-byte write, and returns the shared
 * {@link Stages#DONE}: no locks, no allocation. Consequence, by design: producer sequences are not
 * checked here (that needs a per-partition lock; a retried batch simply gets new offsets, which costs
 * nothing when nothing is stored). Engines that keep records use
 * {@link kiri.storage.api.PartitionProducerState}. Transactional batches take a slower path that
 * tracks open transactions, so that last stable offsets and transaction markers stay consistent.
 */
final class NullStorage extends CatalogStorage<NullPartition> {

    NullStorage(StorageContext context) {
        super(context);
    }

    @Override
    public String describe() {
        return "null:// (topics, groups and offsets in memory; records are discarded)";
    }

    @Override
    protected NullPartition newPartition(TopicPartition tp) {
        return new NullPartition();
    }

    @Override
    protected void onPartitionRemoved(NullPartition partition) {
        partition.waiters.wakeAll();
    }

    @Override
    protected void writeMarker(TopicPartition tp, NullPartition partition, ProducerIdAndEpoch producer, boolean commit) {
        partition.writeMarker(producer.producerId());
        partition.waiters.signal();
    }

    // ---- records -----------------------------------------------------------------------------

    @Override
    public CompletionStage<Void> produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        CatalogTopic<NullPartition> topic = topic(tp.topic());
        int p = tp.partition();
        if (topic == null || p < 0 || p >= topic.partitions().size() || isClosed()) return produceFailure(tp);
        long size = batch.byteSize();
        int delta;
        if (size < RecordBatch.HEADER_SIZE || size > topic.maxMessageBytes()
                || (delta = RecordBatch.lastOffsetDelta(batch)) < 0
                || (RecordBatch.attributes(batch) & (RecordBatch.TRANSACTIONAL_MASK | RecordBatch.CONTROL_MASK)) != 0) {
            return produceSlow(transactionalId, topic, tp, batch);
        }
        NullPartition partition = topic.partitions().get(p);
        long base = partition.reserve(delta + 1L);
        stamp(topic, batch, base);
        partition.waiters.signal();
        return Stages.DONE;
    }

    private void stamp(CatalogTopic<NullPartition> topic, MemorySegment batch, long base) {
        RecordBatch.setBaseOffset(batch, base);
        RecordBatch.setPartitionLeaderEpoch(batch, LEADER_EPOCH);
        if (topic.logAppendTime()) RecordBatch.setLogAppendTime(batch, clock().millis());
    }

    private CompletionStage<Void> produceFailure(TopicPartition tp) {
        return isClosed() ? closedStage() : Stages.failed(Topics.unknown(tp));
    }

    /** Oversized, malformed, control or transactional batches. */
    private CompletionStage<Void> produceSlow(String transactionalId, CatalogTopic<NullPartition> topic, TopicPartition tp, MemorySegment batch) {
        CompletableFuture<Void> refused = refusal(topic, tp, batch);
        if (refused != null) return refused;
        NullPartition partition = topic.partitions().get(tp.partition());
        long pid = RecordBatch.producerId(batch);
        short epoch = RecordBatch.producerEpoch(batch);
        long base;
        try {
            base = appendTransactional(transactionalId, tp, batch,
                    () -> partition.reserveTransactional(pid, epoch, RecordBatch.lastOffsetDelta(batch) + 1L));
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
        if (isClosed()) return closedStage();
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
        if (isClosed()) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        // Nothing is ever returned, so "data at offset" would wake at once forever for a consumer behind
        // the high watermark: wait for the next append instead.
        return partition.waiters.await(Math.max(offset, partition.highWatermark()));
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        if (isClosed()) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(partition.offsets());
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        if (isClosed()) return closedStage();
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
        return Stages.failed(ErrorCode.INVALID_REQUEST, "Unknown ListOffsets timestamp " + timestamp + " for " + tp);
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        if (isClosed()) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        long hwm = partition.highWatermark();
        long before = beforeOffset == -1L ? hwm : beforeOffset;
        if (before < 0 || before > hwm) {
            return Stages.failed(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp + " before offset "
                    + beforeOffset + ": the high watermark is " + hwm);
        }
        return CompletableFuture.completedFuture(partition.advanceLogStart(before));
    }

    private static StorageException outOfRange(TopicPartition tp, long offset, PartitionOffsets offsets) {
        return new StorageException(ErrorCode.OFFSET_OUT_OF_RANGE, "Fetch position " + offset + " is out of range for "
                + tp + " (log start offset " + offsets.logStartOffset() + ", high watermark " + offsets.highWatermark() + ")");
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        if (isClosed()) return closedStage();
        NullPartition partition = partition(tp);
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(partition.activeProducers());
    }

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (isClosed()) return closedStage();
        return CompletableFuture.completedFuture(Map.of());
    }
}
