package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import kiri.protocol.ErrorCode;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.storage.api.VersionConflictException;
import org.junit.jupiter.api.Test;

/** Group state (compare-and-set on a version) and committed offsets. */
public abstract class GroupsContract extends WakeUpContract {

    protected static GroupState group(String id, String state, long version) {
        return new GroupState(id, "classic", "consumer", state, new byte[] {1, 2, 3}, version);
    }

    @Test
    void groupStateIsCompareAndSetOnItsVersion() {
        GroupState v1 = await(storage.updateGroup(group("g", "Stable", GroupState.NO_VERSION)));
        assertTrue(v1.version() > GroupState.NO_VERSION);
        VersionConflictException e = assertFails(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                storage.updateGroup(group("g", "Empty", GroupState.NO_VERSION)));
        assertEquals(v1.version(), e.actualVersion());
        GroupState v2 = await(storage.updateGroup(group("g", "Empty", v1.version())));
        assertTrue(v2.version() > v1.version());
        assertFails(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, storage.updateGroup(group("g", "Dead", v1.version())));

        GroupState stored = await(storage.group("g")).orElseThrow();
        assertEquals(v2.version(), stored.version());
        assertEquals("Empty", stored.state());
        assertArrayEquals(new byte[] {1, 2, 3}, stored.data());
        assertEquals(List.of(new GroupListing("g", "classic", "consumer", "Empty")), await(storage.listGroups()));
    }

    @Test
    void onlyGroupsWithoutMembersAreDeleted() {
        GroupState g = await(storage.updateGroup(group("g", "Stable", GroupState.NO_VERSION)));
        await(storage.commitOffsets("g", List.of(new OffsetCommit(new TopicPartition("t", 0), 3))));
        assertFails(ErrorCode.NON_EMPTY_GROUP, storage.deleteGroup("g"));
        await(storage.updateGroup(group("g", "Empty", g.version())));
        await(storage.deleteGroup("g"));
        assertEquals(Optional.empty(), await(storage.group("g")));
        assertEquals(Map.of(), await(storage.fetchOffsets("g", null, false)), "its offsets went with it");
        assertFails(ErrorCode.GROUP_ID_NOT_FOUND, storage.deleteGroup("g"));
        GroupState again = await(storage.updateGroup(group("g", "Empty", GroupState.NO_VERSION)));
        assertTrue(again.version() > GroupState.NO_VERSION, "a deleted group can be created again");
    }

    @Test
    void committedOffsetsReplaceAndDelete() {
        TopicPartition a0 = new TopicPartition("a", 0);
        TopicPartition a1 = new TopicPartition("a", 1);
        await(storage.commitOffsets("g", List.of(new OffsetCommit(a0, 5, 2, "meta", -1L), new OffsetCommit(a1, 7))));
        CommittedOffset c = await(storage.fetchOffsets("g", List.of(a0), false)).get(a0);
        assertEquals(new CommittedOffset(5, 2, "meta", START_MS, -1L), c, "with the engine clock's time");
        now.addAndGet(1000);
        await(storage.commitOffsets("g", List.of(new OffsetCommit(a0, 6))));
        Map<TopicPartition, CommittedOffset> all = await(storage.fetchOffsets("g", null, false));
        assertEquals(Map.of(a0, 6L, a1, 7L), Map.of(a0, all.get(a0).offset(), a1, all.get(a1).offset()));
        assertEquals(START_MS + 1000, all.get(a0).commitTimestampMs());
        assertEquals(Map.of(), await(storage.fetchOffsets("g", List.of(new TopicPartition("a", 9)), false)), "uncommitted ones left out");

        assertEquals(GroupState.offsetsOnly("g").listing(), await(storage.listGroups()).getFirst(), "offsets alone make a listed group");
        assertEquals(GroupState.NO_VERSION, await(storage.group("g")).orElseThrow().version());

        await(storage.deleteOffsets("g", List.of(a0)));
        assertEquals(List.of(a1), List.copyOf(await(storage.fetchOffsets("g", null, false)).keySet()));
    }

    @Test
    void deletingATopicDropsItsCommittedOffsets() {
        topic("t", 1);
        topic("u", 1);
        TopicPartition t0 = new TopicPartition("t", 0);
        TopicPartition u0 = new TopicPartition("u", 0);
        await(storage.commitOffsets("g", List.of(new OffsetCommit(t0, 1), new OffsetCommit(u0, 2))));
        await(storage.deleteTopic(TopicRef.of("t")));
        assertEquals(List.of(u0), List.copyOf(await(storage.fetchOffsets("g", null, false)).keySet()));
    }

    @Test
    void expiredOffsetsAreDroppedByMaintain() {
        TopicPartition a0 = new TopicPartition("a", 0);
        TopicPartition a1 = new TopicPartition("a", 1);
        await(storage.commitOffsets("g", List.of(new OffsetCommit(a0, 5, -1, null, START_MS + 1000),
                new OffsetCommit(a1, 6, -1, null, -1L))));
        now.addAndGet(2000);
        await(storage.maintain(now.get()));
        assertEquals(List.of(a1), List.copyOf(await(storage.fetchOffsets("g", null, false)).keySet()));
    }
}
