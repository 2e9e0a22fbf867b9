package kiri.storage.nullstore;

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
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Stages;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.Topics;
import kiri.storage.kit.CatalogStorage;
import kiri.storage.kit.CatalogTopic;
import kiri.storage.kit.FetchRange;
import kiri.storage.kit.ListOffsets;

/**
 * The null engine. Everything but record bytes is kept in memory ({@link CatalogStorage}, shared with
 * the memory engine), so it answers every operation consistently; every operation completes synchronously.
 *
 * <p>Produce is one map lookup, one atomic add and one 8-byte write, and returns the shared
 * {@link Stages#DONE}: no locks, no allocation. Consequence, by design: producer sequences are not
 * checked here (that needs a per-partition lock; a retried batch simply gets new offsets, which costs
 * nothing when nothing is stored). Engines that keep records use
 * {@link kiri.storage.kit.PartitionProducerState}. Transactional batches take a slower path that
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
    protected NullPartition newPartition(TopicInfo topic, int index) {
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
        return withPartition(tp, partition -> {
            PartitionOffsets offsets = partition.offsets();
            StorageException outOfRange = FetchRange.check(tp, offset, offsets);
            if (outOfRange != null) return Stages.failed(outOfRange);
            return CompletableFuture.completedFuture(FetchResult.empty(offsets));
        });
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        // Nothing is ever returned, so "data at offset" would wake at once forever for a consumer behind
        // the high watermark: wait for the next append instead.
        return withPartition(tp, partition -> partition.waiters.await(Math.max(offset, partition.highWatermark())));
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        return withPartition(tp, partition -> CompletableFuture.completedFuture(partition.offsets()));
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        // no record is kept to have a timestamp
        return withPartition(tp, partition -> ListOffsets.resolve(tp, timestamp, partition.offsets(), isolation, ListOffsets.Lookup.NOTHING));
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        return withPartition(tp, partition -> CompletableFuture.completedFuture(
                partition.advanceLogStart(deleteBefore(tp, beforeOffset, partition.highWatermark()))));
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        return withPartition(tp, partition -> CompletableFuture.completedFuture(partition.activeProducers()));
    }

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (isClosed()) return closedStage();
        return CompletableFuture.completedFuture(Map.of());
    }
}
