package kiri.storage.nullstore;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import kiri.protocol.ErrorCode;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import kiri.testsupport.KafkaBatches;

class NullTransactionsTest {
    private final Storage storage = new NullStorage(new StorageContext(1, "c", "localhost", 9092));
    private final TopicPartition p0 = new TopicPartition("t", 0);
    private final TopicPartition p1 = new TopicPartition("t", 1);
    private static final ProducerIdAndEpoch NONE = ProducerIdAndEpoch.NONE;

    NullTransactionsTest() {
        await(storage.createTopic(new NewTopic("t", 2), false));
    }

    @AfterEach
    void close() {
        storage.close();
    }

    private ProducerIdAndEpoch init(String txnId) {
        return await(storage.initProducerId(txnId, 60_000, NONE));
    }

    private long produceTxn(String txnId, ProducerIdAndEpoch producer, TopicPartition tp, int count) {
        MemorySegment batch = KafkaBatches.transactional(producer.producerId(), producer.epoch(), 0, count);
        await(storage.produce(txnId, tp, batch));
        return RecordBatch.baseOffset(batch);
    }

    @Test
    void idempotentProducersGetFreshIds() {
        ProducerIdAndEpoch a = init(null);
        ProducerIdAndEpoch b = init(null);
        assertEquals(0, a.epoch());
        assertNotEquals(a.producerId(), b.producerId());
    }

    @Test
    void reinitBumpsTheEpochAndFencesTheOldProducer() {
        ProducerIdAndEpoch first = init("tx");
        assertEquals(0, first.epoch());
        ProducerIdAndEpoch second = init("tx");
        assertEquals(new ProducerIdAndEpoch(first.producerId(), 1), second);
        assertFails(ErrorCode.PRODUCER_FENCED, storage.addPartitionsToTxn("tx", first, List.of(p0)));
        assertFails(ErrorCode.INVALID_PRODUCER_EPOCH, storage.produce("tx", p0,
                KafkaBatches.transactional(first.producerId(), first.epoch(), 0, 1)));
        assertFails(ErrorCode.INVALID_PRODUCER_ID_MAPPING, storage.addPartitionsToTxn("unknown", second, List.of(p0)));
        assertFails(ErrorCode.INVALID_PRODUCER_ID_MAPPING,
                storage.addPartitionsToTxn("tx", new ProducerIdAndEpoch(second.producerId() + 100, second.epoch()), List.of(p0)));
        // KIP-360: re-init with the current pair bumps again; with a stale one is fenced
        assertEquals(new ProducerIdAndEpoch(first.producerId(), 2), await(storage.initProducerId("tx", 60_000, second)));
        assertFails(ErrorCode.PRODUCER_FENCED, storage.initProducerId("tx", 60_000, first));
        assertFails(ErrorCode.INVALID_TRANSACTION_TIMEOUT, storage.initProducerId("tx", 0, NONE));
    }

    @Test
    void commitWritesMarkersAndMovesTheLastStableOffset() {
        ProducerIdAndEpoch producer = init("tx");
        await(storage.produce(null, p0, KafkaBatches.plain(2)));                          // 0..1
        assertEquals(Map.of(), await(storage.addPartitionsToTxn("tx", producer, List.of(p0))));
        assertEquals(2L, produceTxn("tx", producer, p0, 3));                             // 2..4
        await(storage.produce(null, p0, KafkaBatches.plain(1)));                          // 5
        assertEquals(new PartitionOffsets(0L, 2L, 6L), await(storage.offsets(p0)));
        assertEquals(new OffsetAndTimestamp(2L, -1L, 0), await(storage.listOffset(p0, OffsetSpec.LATEST, IsolationLevel.READ_COMMITTED)));
        assertEquals(1, await(storage.describeProducers(p0)).size());
        assertEquals(0L, produceTxn("tx", producer, p1, 1), "produce adds the partition implicitly");

        TransactionDescription open = await(storage.describeTransactions(List.of("tx"))).getFirst();
        assertEquals(TransactionState.ONGOING, open.state());
        assertEquals(Set.of(p0, p1), open.partitions());

        assertEquals(producer, await(storage.endTxn("tx", producer, true, false)));
        assertEquals(new PartitionOffsets(0L, 7L, 7L), await(storage.offsets(p0)), "marker at 6, LSO = HWM");
        assertEquals(new PartitionOffsets(0L, 2L, 2L), await(storage.offsets(p1)));
        assertEquals(List.of(), await(storage.describeProducers(p0)));
        assertEquals(TransactionState.COMPLETE_COMMIT, await(storage.describeTransactions(null)).getFirst().state());

        assertEquals(producer, await(storage.endTxn("tx", producer, true, false)), "a retried commit succeeds");
        assertFails(ErrorCode.INVALID_TXN_STATE, storage.endTxn("tx", producer, false, false));
        assertEquals(new PartitionOffsets(0L, 7L, 7L), await(storage.offsets(p0)), "retries write no marker");
    }

    @Test
    void transactionalOffsetsAreVisibleOnlyAfterCommit() {
        ProducerIdAndEpoch producer = init("tx");
        await(storage.commitOffsets("g", List.of(new OffsetCommit(p0, 1L))));
        await(storage.addOffsetsToTxn("tx", producer, "g"));
        await(storage.txnOffsetCommit("tx", producer, "g", List.of(new OffsetCommit(p0, 10L))));
        assertEquals(1L, await(storage.fetchOffsets("g", List.of(p0), false)).get(p0).offset());
        assertFails(ErrorCode.UNSTABLE_OFFSET_COMMIT, storage.fetchOffsets("g", List.of(p0), true));
        assertEquals(Map.of(), await(storage.fetchOffsets("g", List.of(p1), true)), "other partitions are stable");
        await(storage.endTxn("tx", producer, true, false));
        assertEquals(10L, await(storage.fetchOffsets("g", List.of(p0), true)).get(p0).offset());

        await(storage.txnOffsetCommit("tx", producer, "g", List.of(new OffsetCommit(p0, 20L))));
        await(storage.endTxn("tx", producer, false, false));
        assertEquals(10L, await(storage.fetchOffsets("g", List.of(p0), true)).get(p0).offset(), "aborted offsets are dropped");
    }

    @Test
    void addPartitionsReportsUnknownPartitionsAndAddsNothing() {
        ProducerIdAndEpoch producer = init("tx");
        TopicPartition missing = new TopicPartition("t", 7);
        Map<TopicPartition, Short> errors = await(storage.addPartitionsToTxn("tx", producer, List.of(p0, missing)));
        assertEquals(Map.of(p0, ErrorCode.OPERATION_NOT_ATTEMPTED.code(), missing, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code()), errors);
        assertEquals(TransactionState.EMPTY, await(storage.describeTransactions(List.of("tx"))).getFirst().state());
        assertEquals(new ProducerIdAndEpoch(producer.producerId(), producer.epoch()), await(storage.endTxn("tx", producer, false, false)),
                "aborting with nothing open is fine");
        assertFails(ErrorCode.INVALID_TXN_STATE, storage.endTxn("tx", producer, true, false));
    }

    @Test
    void reinitAbortsTheOpenTransaction() {
        ProducerIdAndEpoch producer = init("tx");
        produceTxn("tx", producer, p0, 2);
        assertEquals(0L, await(storage.offsets(p0)).lastStableOffset());
        ProducerIdAndEpoch next = init("tx");
        assertEquals(producer.epoch() + 1, next.epoch());
        assertEquals(new PartitionOffsets(0L, 3L, 3L), await(storage.offsets(p0)), "abort marker written");
    }

    @Test
    void timedOutTransactionsAreAbortedAndTheProducerFenced() {
        ProducerIdAndEpoch producer = await(storage.initProducerId("tx", 1_000, NONE));
        produceTxn("tx", producer, p0, 1);
        long started = await(storage.describeTransactions(List.of("tx"))).getFirst().startTimeMs();
        await(storage.maintain(started + 1_000L));
        assertEquals(TransactionState.ONGOING, await(storage.describeTransactions(List.of("tx"))).getFirst().state());
        await(storage.maintain(started + 1_001L));
        TransactionDescription aborted = await(storage.describeTransactions(List.of("tx"))).getFirst();
        assertEquals(TransactionState.COMPLETE_ABORT, aborted.state());
        assertEquals(producer.epoch() + 1, aborted.producerEpoch());
        assertEquals(new PartitionOffsets(0L, 2L, 2L), await(storage.offsets(p0)));
        assertFails(ErrorCode.PRODUCER_FENCED, storage.endTxn("tx", producer, true, false));
    }

    @Test
    void transactionVersion2EndBumpsTheEpochOnceEvenWhenRetried() {
        ProducerIdAndEpoch producer = init("tx");
        produceTxn("tx", producer, p0, 1);
        ProducerIdAndEpoch after = await(storage.endTxn("tx", producer, true, true));
        assertEquals(new ProducerIdAndEpoch(producer.producerId(), producer.epoch() + 1), after);
        assertEquals(after, await(storage.endTxn("tx", producer, true, true)), "retry with the old epoch");
        assertEquals(after, await(storage.endTxn("tx", after, true, true)), "retry with the new epoch");
        assertEquals(2L, await(storage.offsets(p0)).highWatermark(), "one marker");
    }
}
