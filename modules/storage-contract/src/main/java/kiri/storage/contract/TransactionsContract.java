package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import kiri.protocol.ErrorCode;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

/** Transactions: the last stable offset, markers, aborted ranges for read_committed, fencing, timeouts, offsets. */
public abstract class TransactionsContract extends IdempotenceContract {
    protected static final String TXN = "txn-1";

    protected final ProducerIdAndEpoch initTxn(int timeoutMs) {
        return await(storage.initProducerId(TXN, timeoutMs, ProducerIdAndEpoch.NONE));
    }

    /** Opens the transaction on {@code tp} and writes {@code count} records at sequence {@code seq}; returns the base offset. */
    protected final long produceTxn(ProducerIdAndEpoch p, TopicPartition tp, int seq, int count) {
        assertEquals(Map.of(), await(storage.addPartitionsToTxn(TXN, p, List.of(tp))));
        return produce(TXN, tp, KafkaBatches.transactional(p.producerId(), p.epoch(), seq, count));
    }

    protected final TransactionDescription describeTxn() {
        List<TransactionDescription> d = await(storage.describeTransactions(List.of(TXN)));
        assertEquals(1, d.size());
        return d.getFirst();
    }

    @Test
    void openTransactionHoldsTheLastStableOffset() {
        topic("t", 1);
        produce(p0, KafkaBatches.plain(2));
        ProducerIdAndEpoch p = initTxn(60_000);
        assertEquals(2, produceTxn(p, p0, 0, 3));
        assertEquals(new PartitionOffsets(0, 2, 5), offsets(p0));
        assertEquals(2, await(storage.listOffset(p0, OffsetSpec.LATEST, RC)).offset());
        assertEquals(5, await(storage.listOffset(p0, OffsetSpec.LATEST, RU)).offset());
        assertEquals(TransactionState.ONGOING, describeTxn().state());
        assertEquals(java.util.Set.of(p0), describeTxn().partitions());
        assertEquals(List.of(2L), await(storage.describeProducers(p0)).stream().map(a -> a.currentTxnStartOffset()).toList());

        assertEquals(p, await(storage.endTxn(TXN, p, true, false)));
        assertEquals(new PartitionOffsets(0, 6, 6), offsets(p0), "the commit marker takes one offset");
        assertEquals(TransactionState.COMPLETE_COMMIT, describeTxn().state());
    }

    @Test
    void readCommittedSeesCommittedRecordsOnly() {
        requires(Capability.RECORDS);
        topic("t", 1);
        produce(p0, KafkaBatches.plain("plain", 2, START_MS));
        ProducerIdAndEpoch p = initTxn(60_000);
        produceTxn(p, p0, 0, 3);
        assertEquals(List.of("plain0", "plain1"), fetch(p0, 0, RC).values(), "up to the last stable offset");
        assertEquals(5, fetch(p0, 0, RU).values().size(), "read_uncommitted sees the open transaction");
        await(storage.endTxn(TXN, p, true, false));
        Fetched committed = fetch(p0, 0, RC);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), committed.dataOffsets());
        assertEquals(List.of(), committed.aborted());
        assertTrue(committed.batches().getLast().isControlBatch(), "the marker is fetched too");
    }

    @Test
    void abortedRangesAreListedForReadCommitted() {
        requires(Capability.RECORDS);
        topic("t", 1);
        ProducerIdAndEpoch p = initTxn(60_000);
        produceTxn(p, p0, 0, 3);
        await(storage.endTxn(TXN, p, false, false));
        produce(p0, KafkaBatches.plain("after", 1, START_MS));
        assertEquals(new PartitionOffsets(0, 5, 5), offsets(p0));
        Fetched rc = fetch(p0, 0, RC);
        assertEquals(List.of(new AbortedTransaction(p.producerId(), 0)), rc.aborted());
        assertEquals(List.of(), fetch(p0, 0, RU).aborted(), "read_uncommitted gets no aborted list");
        assertEquals(List.of(), fetch(p0, 4, RC).aborted(), "nor a range past the abort");
        assertEquals(TransactionState.COMPLETE_ABORT, describeTxn().state());
    }

    @Test
    void newProducerFencesTheOldOne() {
        topic("t", 1);
        ProducerIdAndEpoch first = initTxn(60_000);
        produceTxn(first, p0, 0, 2);
        ProducerIdAndEpoch second = initTxn(60_000);
        assertEquals(first.producerId(), second.producerId());
        assertTrue(second.epoch() > first.epoch());
        assertEquals(offsets(p0).highWatermark(), offsets(p0).lastStableOffset(), "the open transaction was aborted");
        assertFails(ErrorCode.PRODUCER_FENCED, storage.addPartitionsToTxn(TXN, first, List.of(p0)));
        assertFails(ErrorCode.PRODUCER_FENCED, storage.endTxn(TXN, first, true, false));
        assertFails(ErrorCode.INVALID_PRODUCER_EPOCH,
                storage.produce(TXN, p0, KafkaBatches.transactional(first.producerId(), first.epoch(), 2, 1)));
        assertFails(ErrorCode.INVALID_PRODUCER_ID_MAPPING,
                storage.produce(TXN, p0, KafkaBatches.transactional(second.producerId() + 1000, second.epoch(), 0, 1)));
        assertEquals(Map.of(), await(storage.addPartitionsToTxn(TXN, second, List.of(p0))), "the new producer goes on");
    }

    @Test
    void endTxnStateErrors() {
        topic("t", 1);
        ProducerIdAndEpoch p = initTxn(60_000);
        assertFails(ErrorCode.INVALID_TXN_STATE, storage.endTxn(TXN, p, true, false));
        assertEquals(p, await(storage.endTxn(TXN, p, false, false)), "an abort with nothing open succeeds");
        produceTxn(p, p0, 0, 1);
        await(storage.endTxn(TXN, p, true, false));
        await(storage.endTxn(TXN, p, true, false)); // a client's retry
        assertEquals(new PartitionOffsets(0, 2, 2), offsets(p0), "the retry wrote no second marker");
        assertFails(ErrorCode.INVALID_TXN_STATE, storage.endTxn(TXN, p, false, false));
        produceTxn(p, p0, 1, 1);
        ProducerIdAndEpoch bumped = await(storage.endTxn(TXN, p, true, true));
        assertEquals(p.epoch() + 1, bumped.epoch(), "transaction version 2 bumps the epoch on end");
        assertEquals(new PartitionOffsets(0, 4, 4), offsets(p0));
    }

    @Test
    void addPartitionsToTxnIsAllOrNothing() {
        topic("t", 1);
        ProducerIdAndEpoch p = initTxn(60_000);
        TopicPartition missing = new TopicPartition("nope", 0);
        Map<TopicPartition, Short> errors = await(storage.addPartitionsToTxn(TXN, p, List.of(p0, missing)));
        assertEquals(Map.of(p0, ErrorCode.OPERATION_NOT_ATTEMPTED.code(), missing, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code()), errors);
        assertEquals(java.util.Set.of(), describeTxn().partitions());
        assertFails(ErrorCode.INVALID_PRODUCER_ID_MAPPING,
                storage.addPartitionsToTxn(TXN, new ProducerIdAndEpoch(p.producerId() + 1000, p.epoch()), List.of(p0)));
        assertFails(ErrorCode.INVALID_TRANSACTION_TIMEOUT, storage.initProducerId("other", 0, ProducerIdAndEpoch.NONE));
    }

    @Test
    void expiredTransactionIsAbortedByMaintain() {
        topic("t", 1);
        ProducerIdAndEpoch p = initTxn(1000);
        produceTxn(p, p0, 0, 2);
        now.addAndGet(5000);
        await(storage.maintain(now.get()));
        PartitionOffsets o = offsets(p0);
        assertEquals(o.highWatermark(), o.lastStableOffset(), "aborted: the marker released the last stable offset");
        assertEquals(3, o.highWatermark());
        TransactionDescription d = describeTxn();
        assertEquals(TransactionState.COMPLETE_ABORT, d.state());
        assertTrue(d.producerEpoch() > p.epoch(), "the epoch was bumped to fence the producer");
        assertFails(ErrorCode.PRODUCER_FENCED, storage.endTxn(TXN, p, true, false));
    }

    @Test
    void transactionalOffsetsAppearOnCommitOnly() {
        topic("t", 1);
        ProducerIdAndEpoch p = initTxn(60_000);
        await(storage.addOffsetsToTxn(TXN, p, "g"));
        await(storage.txnOffsetCommit(TXN, p, "g", List.of(new OffsetCommit(p0, 5))));
        assertFails(ErrorCode.UNSTABLE_OFFSET_COMMIT, storage.fetchOffsets("g", List.of(p0), true));
        assertEquals(Map.of(), await(storage.fetchOffsets("g", List.of(p0), false)), "pending offsets are not visible");
        await(storage.endTxn(TXN, p, true, false));
        assertEquals(5, await(storage.fetchOffsets("g", List.of(p0), true)).get(p0).offset());

        await(storage.addOffsetsToTxn(TXN, p, "g"));
        await(storage.txnOffsetCommit(TXN, p, "g", List.of(new OffsetCommit(p0, 9))));
        await(storage.endTxn(TXN, p, false, false));
        assertEquals(5, await(storage.fetchOffsets("g", List.of(p0), true)).get(p0).offset(), "an abort drops them");
    }
}
