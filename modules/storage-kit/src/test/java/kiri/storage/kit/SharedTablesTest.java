package kiri.storage.kit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.ErrorCode;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionState;
import kiri.storage.api.VersionConflictException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What durable engines rely on in GroupTable and TransactionTable: snapshots restore to the same behaviour. */
class SharedTablesTest {
    static final TopicPartition TP = new TopicPartition("t", 0);

    /**
     * A failed write's rollback never shows readers a group without the offsets it had before: a consumer reading
     * "no committed offset" there would reset to auto.offset.reset (skipping or repeating records). The reader runs
     * while the engine's thread commits and rolls back, as a failing disk makes it; a gap shows within these rounds.
     */
    @Test
    void aRollbackNeverShowsAGroupWithoutItsOffsets() throws Exception {
        GroupTable table = new GroupTable();
        table.commit("g", List.of(new OffsetCommit(TP, 5)), 1_000L);
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong gaps = new java.util.concurrent.atomic.AtomicLong();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                if (!table.fetch("g", List.of(TP)).containsKey(TP)) gaps.incrementAndGet();
            }
        });
        try {
            for (int i = 0; i < 200_000 && gaps.get() == 0; i++) {
                GroupTable.Snapshot before = table.snapshot("g");
                table.commit("g", List.of(new OffsetCommit(TP, 6)), 2_000L);
                table.rollback(before);
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertEquals(0, gaps.get(), "reads that found no committed offset");
        assertEquals(5, table.fetch("g", List.of(TP)).get(TP).offset());
    }

    @Test
    void groupSnapshotsRestoreStateOffsetsAndVersions() {
        GroupTable a = new GroupTable();
        a.commit("g", List.of(new OffsetCommit(TP, 5, 1, "m", 99L)), 1_000L);
        GroupState stored = a.update(new GroupState("g", "classic", "consumer", "Stable", new byte[] {7}, GroupState.NO_VERSION));
        a.commit("only-offsets", List.of(new OffsetCommit(TP, 1)), 2_000L);

        GroupTable b = new GroupTable();
        for (String id : a.groupIds()) b.restore(a.snapshot(id));
        assertEquals(a.list(), b.list());
        assertEquals(a.fetch("g", null), b.fetch("g", null));
        assertEquals(new CommittedOffset(5, 1, "m", 1_000L, 99L), b.fetch("g", null).get(TP));
        assertThrows(VersionConflictException.class, () -> b.update(stored.withVersion(GroupState.NO_VERSION)));
        assertTrue(b.update(b.group("g").orElseThrow()).version() > stored.version());
        // A group with members is not deleted and keeps its offsets at expiry; an empty one loses expired ones.
        assertEquals(ErrorCode.NON_EMPTY_GROUP.code(), assertThrows(StorageException.class, () -> b.delete("g")).errorCode());
        assertEquals(Set.of(), b.expireOffsets(1_000_000L));
        b.delete("only-offsets");
        assertTrue(b.snapshot("only-offsets").isDeleted());
        assertEquals(Set.of("g"), b.removeTopic("t"));
    }

    @Test
    void transactionSnapshotsRestoreAndAdoptionClosesOrphans() {
        List<String> markers = new ArrayList<>();
        AtomicLong ids = new AtomicLong(100);
        TransactionTable.Engine engine = new TransactionTable.Engine() {
            @Override
            public boolean partitionExists(TopicPartition tp) {
                return true;
            }

            @Override
            public void writeMarker(TopicPartition tp, ProducerIdAndEpoch producer, boolean commit) {
                markers.add(tp.topic() + "-" + tp.partition() + ":" + producer.producerId() + ":" + (commit ? "commit" : "abort"));
            }

            @Override
            public void commitOffsets(String groupId, List<OffsetCommit> offsets) {
                markers.add("offsets:" + groupId);
            }
        };
        TransactionTable a = new TransactionTable(engine, ids::getAndIncrement);
        ProducerIdAndEpoch p = a.initProducerId("tx", 1_000, ProducerIdAndEpoch.NONE, 0L);
        a.addPartitions("tx", p, List.of(TP), 10L);
        a.txnOffsetCommit("tx", p, "g", List.of(new OffsetCommit(TP, 3)), 10L);
        assertEquals(ErrorCode.UNSTABLE_OFFSET_COMMIT.code(), a.unstableOffsets("g", null).errorCode());

        TransactionTable b = new TransactionTable(engine, ids::getAndIncrement);
        b.restore(a.snapshot("tx"));
        assertEquals(a.describe(null), b.describe(null));
        assertEquals(p.producerId(), b.maxProducerId());
        TopicPartition other = new TopicPartition("t", 1);
        assertEquals("tx", b.adopt(p.producerId(), other, 20L));
        assertNull(b.adopt(12345L, other, 20L));
        assertEquals(p, b.end("tx", p, true, false));
        assertEquals(List.of("t-0:100:commit", "t-1:100:commit", "offsets:g"), markers);
        assertEquals(TransactionState.COMPLETE_COMMIT, b.describe(List.of("tx")).getFirst().state());
        assertEquals(Map.of(), b.addPartitions("tx", p, List.of(TP), 30L));
        assertEquals(List.of("tx"), b.abortExpired(5_000L));
        assertEquals((short) 1, b.describe(List.of("tx")).getFirst().producerEpoch());
    }
}
