package kiri.storage.contract;

import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TransactionState;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

/** Durable engines: what a clean close and a new open keep. */
public abstract class ReopenContract extends GroupsContract {

    @Test
    void reopenKeepsTopicsRecordsAndOffsets() {
        requires(Capability.REOPEN);
        TopicInfo t = topic("t", 2, Map.of("retention.ms", "86400000"));
        for (int i = 0; i < 3; i++) produce(p0, KafkaBatches.plain("r" + i + "-", 2, START_MS));
        produce(p1, KafkaBatches.plain("p1-", 1, START_MS));
        await(storage.deleteRecords(p0, 2));
        String clusterId = storage.clusterId();
        reopen();
        assertEquals(clusterId, storage.clusterId());
        assertEquals(List.of(t), await(storage.listTopics()));
        assertEquals(new PartitionOffsets(2, 6, 6), offsets(p0));
        assertEquals(List.of("r1-0", "r1-1", "r2-0", "r2-1"), fetch(p0, 2, RU).values());
        assertEquals(List.of("p1-0"), fetch(p1, 0, RU).values());
        assertEquals(6, produce(p0, KafkaBatches.plain(1)), "offsets go on where they were");
    }

    @Test
    void reopenKeepsIdempotenceWindowsAndAbortedRanges() {
        requires(Capability.REOPEN);
        requires(Capability.PRODUCER_STATE);
        topic("t", 1);
        long pid = await(storage.initProducerId(null, 60_000, ProducerIdAndEpoch.NONE)).producerId();
        assertEquals(0, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 0, 3)));
        ProducerIdAndEpoch p = initTxn(60_000);
        assertEquals(3, produceTxn(p, p0, 0, 2));
        await(storage.endTxn(TXN, p, false, false));
        reopen();
        assertEquals(0, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 0, 3)), "a retry after the restart is a duplicate");
        assertEquals(new PartitionOffsets(0, 6, 6), offsets(p0));
        assertEquals(List.of(new AbortedTransaction(p.producerId(), 3)), fetch(p0, 0, RC).aborted());
        assertTrue(await(storage.initProducerId(null, 60_000, ProducerIdAndEpoch.NONE)).producerId() != p.producerId(),
                "producer ids are not handed out twice");
    }

    @Test
    void reopenKeepsGroupsOffsetsAndTransactionalIds() {
        requires(Capability.REOPEN);
        requires(Capability.DURABLE_COORDINATION);
        GroupState g = await(storage.updateGroup(group("g", "Empty", GroupState.NO_VERSION)));
        await(storage.commitOffsets("g", List.of(new OffsetCommit(p0, 42))));
        topic("t", 1);
        ProducerIdAndEpoch p = initTxn(60_000);
        produceTxn(p, p0, 0, 1);
        await(storage.endTxn(TXN, p, true, false));
        reopen();
        assertEquals(g.version(), await(storage.group("g")).orElseThrow().version());
        assertEquals(42, await(storage.fetchOffsets("g", null, false)).get(p0).offset());
        assertEquals(TransactionState.COMPLETE_COMMIT, describeTxn().state());
        ProducerIdAndEpoch next = initTxn(60_000);
        assertEquals(p.producerId(), next.producerId());
        assertTrue(next.epoch() > p.epoch(), "the transactional id's epoch survived: the old producer stays fenced");
    }
}
