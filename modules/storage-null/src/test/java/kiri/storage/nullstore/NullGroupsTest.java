package kiri.storage.nullstore;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import kiri.protocol.ErrorCode;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.storage.api.VersionConflictException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NullGroupsTest {
    private final Storage storage = new NullStorage(new StorageContext(1, "c", "localhost", 9092));
    private final TopicPartition p0 = new TopicPartition("t", 0);
    private final TopicPartition p1 = new TopicPartition("t", 1);

    @AfterEach
    void close() {
        storage.close();
    }

    private static GroupState state(String state, long version, String data) {
        return new GroupState("g", "classic", "consumer", state, data.getBytes(), version);
    }

    @Test
    void compareAndSetDetectsConflicts() throws Exception {
        GroupState v1 = await(storage.updateGroup(state("Stable", GroupState.NO_VERSION, "gen1")));
        assertTrue(v1.version() > GroupState.NO_VERSION);
        assertFails(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, storage.updateGroup(state("Stable", GroupState.NO_VERSION, "other")));

        GroupState v2 = await(storage.updateGroup(state("PreparingRebalance", v1.version(), "gen2")));
        assertTrue(v2.version() > v1.version());
        // a second coordinator still holding v1 loses
        try {
            storage.updateGroup(state("Stable", v1.version(), "stale")).toCompletableFuture().get();
            throw new AssertionError("stale write succeeded");
        } catch (ExecutionException e) {
            VersionConflictException c = assertInstanceOf(VersionConflictException.class, e.getCause());
            assertEquals(v2.version(), c.actualVersion());
            assertEquals(v1.version(), c.expectedVersion());
        }
        GroupState stored = await(storage.group("g")).orElseThrow();
        assertEquals("PreparingRebalance", stored.state());
        assertArrayEquals("gen2".getBytes(), stored.data());
        assertEquals(v2.version(), stored.version());
    }

    @Test
    void offsetsCommitFetchAndDelete() {
        await(storage.commitOffsets("g", List.of(new OffsetCommit(p0, 5L, 2, "meta", -1L), new OffsetCommit(p1, 7L))));
        await(storage.commitOffsets("g", List.of(new OffsetCommit(p0, 6L))));
        Map<TopicPartition, CommittedOffset> all = await(storage.fetchOffsets("g", null, false));
        assertEquals(6L, all.get(p0).offset());
        assertEquals(-1, all.get(p0).leaderEpoch());
        assertEquals(7L, all.get(p1).offset());
        Map<TopicPartition, CommittedOffset> some = await(storage.fetchOffsets("g", List.of(p1, new TopicPartition("t", 9)), false));
        assertEquals(List.of(p1), List.copyOf(some.keySet()), "partitions without a commit are left out");
        assertEquals(Map.of(), await(storage.fetchOffsets("unknown", null, false)));

        await(storage.deleteOffsets("g", List.of(p0)));
        assertEquals(List.of(p1), List.copyOf(await(storage.fetchOffsets("g", null, false)).keySet()));
        assertFails(ErrorCode.GROUP_ID_NOT_FOUND, storage.deleteOffsets("unknown", List.of(p0)));
    }

    @Test
    void offsetOnlyGroupsAreListedAsEmptyClassicGroups() {
        await(storage.commitOffsets("simple", List.of(new OffsetCommit(p0, 1L))));
        await(storage.updateGroup(state("Stable", GroupState.NO_VERSION, "x")));
        assertEquals(List.of(new GroupListing("g", "classic", "consumer", "Stable"), new GroupListing("simple", "classic", "", "Empty")),
                await(storage.listGroups()));
        GroupState simple = await(storage.group("simple")).orElseThrow();
        assertEquals(GroupState.NO_VERSION, simple.version());
        assertEquals(Optional.empty(), await(storage.group("nobody")));
        // the coordinator may take over an offsets-only group with version NO_VERSION
        await(storage.updateGroup(new GroupState("simple", "classic", "consumer", "Empty", null, GroupState.NO_VERSION)));
    }

    @Test
    void deleteOnlyEmptyGroupsAndTheirOffsets() {
        GroupState v1 = await(storage.updateGroup(state("Stable", GroupState.NO_VERSION, "x")));
        await(storage.commitOffsets("g", List.of(new OffsetCommit(p0, 1L))));
        assertFails(ErrorCode.NON_EMPTY_GROUP, storage.deleteGroup("g"));
        await(storage.updateGroup(state("Empty", v1.version(), "x")));
        await(storage.deleteGroup("g"));
        assertEquals(Optional.empty(), await(storage.group("g")));
        assertEquals(Map.of(), await(storage.fetchOffsets("g", null, false)));
        assertFails(ErrorCode.GROUP_ID_NOT_FOUND, storage.deleteGroup("g"));
        // re-created from scratch: the old version is not valid any more
        assertFails(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, storage.updateGroup(state("Stable", v1.version(), "x")));
        await(storage.updateGroup(state("Stable", GroupState.NO_VERSION, "x")));
    }

    @Test
    void offsetsExpireOnlyWhenTheGroupHasNoMembers() {
        await(storage.commitOffsets("g", List.of(new OffsetCommit(p0, 1L, -1, null, 1_000L), new OffsetCommit(p1, 2L))));
        GroupState v1 = await(storage.updateGroup(state("Stable", GroupState.NO_VERSION, "x")));
        await(storage.maintain(5_000L));
        assertEquals(2, await(storage.fetchOffsets("g", null, false)).size(), "group has members");
        await(storage.updateGroup(state("Empty", v1.version(), "x")));
        await(storage.maintain(999L));
        assertEquals(2, await(storage.fetchOffsets("g", null, false)).size(), "not yet due");
        await(storage.maintain(1_000L));
        assertEquals(List.of(p1), List.copyOf(await(storage.fetchOffsets("g", null, false)).keySet()));
    }

    @Test
    void deletingATopicDropsItsCommittedOffsets() {
        await(storage.createTopic(new NewTopic("t", 2), false));
        await(storage.commitOffsets("g", List.of(new OffsetCommit(p0, 1L), new OffsetCommit(new TopicPartition("u", 0), 3L))));
        await(storage.deleteTopic(TopicRef.of("t")));
        assertEquals(List.of(new TopicPartition("u", 0)), List.copyOf(await(storage.fetchOffsets("g", null, false)).keySet()));
    }
}
