package kiri.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import kiri.storage.api.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The classic group state machine, driven directly with a manual clock over null:// storage. */
class GroupCoordinatorTest {
    private static final int SESSION = 10_000;
    private static final int REBALANCE = 30_000;
    private static final int DELAY = 3_000;

    private final Storage storage = Storages.open("null://", new StorageContext(0, "c", "localhost", 9092));
    private final ManualTimer timer = new ManualTimer();
    private final GroupCoordinator coordinator = new GroupCoordinator(storage,
            CoordinatorConfig.defaults().withMinSessionTimeoutMs(1000).withInitialRebalanceDelayMs(DELAY), timer);
    private final TopicPartition t0 = new TopicPartition("t", 0);

    @AfterEach
    void close() {
        coordinator.close();
        storage.close();
    }

    private static byte[] subscription(String... topics) {
        ByteBuffer b = ByteBuffer.allocate(256);
        b.putShort((short) 0).putInt(topics.length);
        for (String t : topics) {
            byte[] n = t.getBytes(StandardCharsets.UTF_8);
            b.putShort((short) n.length).put(n);
        }
        b.putInt(-1);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    private static JoinRequest joinReq(String group, String memberId, String instanceId, List<Protocol> protocols) {
        return new JoinRequest(group, memberId, instanceId, "consumer", protocols, SESSION, REBALANCE, "client",
                "/127.0.0.1", instanceId == null);
    }

    private static List<Protocol> range(String... topics) {
        return List.of(new Protocol("range", subscription(topics)));
    }

    private static <T> T now(CompletionStage<T> stage) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        assertTrue(f.isDone(), "expected an answer now");
        return f.join();
    }

    /** Dynamic join v4+: MEMBER_ID_REQUIRED with a new id, then the real join (pending until the rebalance completes). */
    private CompletableFuture<JoinResult> join(String group, List<Protocol> protocols) {
        JoinResult first = now(coordinator.join(joinReq(group, "", null, protocols)));
        assertEquals(ErrorCode.MEMBER_ID_REQUIRED.code(), first.error());
        assertFalse(first.memberId().isEmpty());
        return coordinator.join(joinReq(group, first.memberId(), null, protocols)).toCompletableFuture();
    }

    private SyncResult sync(String group, JoinResult joined, Map<String, byte[]> assignments) {
        return now(coordinator.sync(new SyncRequest(group, joined.generationId(), joined.memberId(), null, "consumer",
                joined.protocolName(), assignments)));
    }

    private short heartbeat(String group, JoinResult joined) {
        return now(coordinator.heartbeat(group, joined.memberId(), null, joined.generationId()));
    }

    private String state(String group) {
        return now(coordinator.describe(group)).state();
    }

    @Test
    void twoMembersJoinAfterTheInitialDelayAndTheLeaderAssigns() {
        CompletableFuture<JoinResult> a = join("g", List.of(new Protocol("range", subscription("t")),
                new Protocol("roundrobin", subscription("t"))));
        CompletableFuture<JoinResult> b = join("g", List.of(new Protocol("roundrobin", subscription("t")),
                new Protocol("range", subscription("t"))));
        assertFalse(a.isDone(), "the first generation waits group.initial.rebalance.delay.ms");
        assertEquals("PreparingRebalance", state("g"));
        timer.advance(DELAY);
        JoinResult ja = now(a);
        JoinResult jb = now(b);
        assertEquals(ErrorCode.NONE.code(), ja.error());
        assertEquals(1, ja.generationId());
        assertEquals(ja.generationId(), jb.generationId());
        assertEquals(ja.memberId(), ja.leader(), "the first member leads");
        assertEquals(ja.leader(), jb.leader());
        assertEquals(2, ja.members().size(), "the leader sees every member");
        assertTrue(jb.members().isEmpty(), "followers see none");
        assertEquals("range", ja.protocolName(), "tie broken by the first member's preference");
        assertEquals("CompletingRebalance", state("g"));

        // the follower's sync waits for the leader's
        CompletableFuture<SyncResult> followerSync = coordinator.sync(new SyncRequest("g", jb.generationId(),
                jb.memberId(), null, null, null, Map.of())).toCompletableFuture();
        assertFalse(followerSync.isDone());
        SyncResult leaderSync = sync("g", ja, Map.of(ja.memberId(), new byte[] {1}, jb.memberId(), new byte[] {2}));
        assertArrayEquals(new byte[] {1}, leaderSync.assignment());
        assertArrayEquals(new byte[] {2}, now(followerSync).assignment());
        assertEquals("Stable", state("g"));
        assertEquals(ErrorCode.NONE.code(), heartbeat("g", ja));
        assertEquals(ErrorCode.NONE.code(), heartbeat("g", jb));

        GroupDescription d = now(coordinator.describe("g"));
        assertEquals(2, d.members().size());
        assertEquals("range", d.protocolName());
        assertArrayEquals(new byte[] {2}, d.members().stream().filter(m -> m.memberId().equals(jb.memberId()))
                .findFirst().orElseThrow().assignment());
    }

    private JoinResult[] stableGroup(String group, int n) {
        @SuppressWarnings("unchecked")
        CompletableFuture<JoinResult>[] joins = new CompletableFuture[n];
        for (int i = 0; i < n; i++) joins[i] = join(group, range("t"));
        timer.advance(DELAY);
        JoinResult[] out = new JoinResult[n];
        for (int i = 0; i < n; i++) out[i] = now(joins[i]);
        CompletableFuture<?>[] syncs = new CompletableFuture<?>[n];
        for (int i = 1; i < n; i++) {
            syncs[i] = coordinator.sync(new SyncRequest(group, out[i].generationId(), out[i].memberId(), null, null, null,
                    Map.of())).toCompletableFuture();
        }
        assertEquals(ErrorCode.NONE.code(), sync(group, out[0], Map.of()).error());
        for (int i = 1; i < n; i++) assertTrue(syncs[i].isDone());
        assertEquals("Stable", state(group));
        return out;
    }

    @Test
    void aSilentMemberIsExpelledAndTheOthersRebalance() {
        JoinResult[] m = stableGroup("g", 2);
        // only the second member keeps heartbeating
        for (int i = 0; i < 4; i++) {
            timer.advance(SESSION / 4);
            if (i < 3) assertEquals(ErrorCode.NONE.code(), heartbeat("g", m[1]));
        }
        assertEquals("PreparingRebalance", state("g"), "the first member's session expired");
        assertEquals(ErrorCode.REBALANCE_IN_PROGRESS.code(), heartbeat("g", m[1]));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), heartbeat("g", m[0]));
        JoinResult rejoined = now(coordinator.join(joinReq("g", m[1].memberId(), null, range("t"))));
        assertEquals(ErrorCode.NONE.code(), rejoined.error());
        assertEquals(m[1].generationId() + 1, rejoined.generationId());
        assertEquals(m[1].memberId(), rejoined.leader(), "the remaining member leads");
        assertEquals(1, rejoined.members().size());
        assertEquals(ErrorCode.ILLEGAL_GENERATION.code(), heartbeat("g", m[1]));
    }

    @Test
    void membersThatDoNotRejoinWithinTheRebalanceTimeoutAreDropped() {
        JoinResult[] m = stableGroup("g", 2);
        // a third member joins: both must rejoin, only the first does
        CompletableFuture<JoinResult> third = join("g", range("t"));
        CompletableFuture<JoinResult> first = coordinator.join(joinReq("g", m[0].memberId(), null, range("t")))
                .toCompletableFuture();
        assertFalse(first.isDone());
        for (int elapsed = 0; elapsed < REBALANCE; elapsed += SESSION / 2) {
            timer.advance(SESSION / 2);
            if (!first.isDone()) heartbeat("g", m[0]);
        }
        JoinResult j = now(first);
        assertEquals(ErrorCode.NONE.code(), j.error());
        assertEquals(2, j.members().size(), "the member that did not rejoin is gone");
        assertEquals(ErrorCode.NONE.code(), now(third).error());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), heartbeat("g", m[1]));
    }

    @Test
    void leavingTriggersARebalanceAndTheLastLeaverEmptiesTheGroup() {
        JoinResult[] m = stableGroup("g", 2);
        LeaveResult left = now(coordinator.leave("g", List.of(new GroupCoordinator.Leaving(m[1].memberId(), null),
                new GroupCoordinator.Leaving("nobody", null))));
        assertEquals(ErrorCode.NONE.code(), left.error());
        assertEquals(ErrorCode.NONE.code(), left.members().get(0).error());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), left.members().get(1).error());
        assertEquals("PreparingRebalance", state("g"));
        assertEquals(ErrorCode.REBALANCE_IN_PROGRESS.code(), heartbeat("g", m[0]));
        assertEquals(ErrorCode.NON_EMPTY_GROUP.code(), now(coordinator.delete("g")));

        JoinResult rejoined = now(coordinator.join(joinReq("g", m[0].memberId(), null, range("t"))));
        assertEquals(m[0].generationId() + 1, rejoined.generationId());
        now(coordinator.leave("g", List.of(new GroupCoordinator.Leaving(m[0].memberId(), null))));
        assertEquals("Empty", state("g"));
        assertEquals(ErrorCode.NONE.code(), now(coordinator.delete("g")));
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND.code(), now(coordinator.describe("g")).error());
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND.code(), now(coordinator.delete("g")));
    }

    @Test
    void staticMemberRejoinsAStableGroupWithoutARebalanceAndFencesItsOldId() {
        CompletableFuture<JoinResult> a = coordinator.join(joinReq("g", "", "instance-a", range("t"))).toCompletableFuture();
        timer.advance(DELAY);
        JoinResult ja = now(a);
        assertEquals(ErrorCode.NONE.code(), ja.error());
        sync("g", ja, Map.of(ja.memberId(), new byte[] {7}));
        assertEquals("Stable", state("g"));

        JoinResult again = now(coordinator.join(joinReq("g", "", "instance-a", range("t"))));
        assertEquals(ErrorCode.NONE.code(), again.error());
        assertNotEquals(ja.memberId(), again.memberId());
        assertEquals(ja.generationId(), again.generationId(), "no new generation");
        assertTrue(again.skipAssignment(), "the leader keeps the assignment");
        assertEquals("Stable", state("g"));
        assertArrayEquals(new byte[] {7}, sync("g", again, Map.of()).assignment());
        assertEquals(ErrorCode.FENCED_INSTANCE_ID.code(), now(coordinator.heartbeat("g", ja.memberId(), "instance-a",
                ja.generationId())));
        // static members leave by instance id
        LeaveResult left = now(coordinator.leave("g", List.of(new GroupCoordinator.Leaving("", "instance-a"))));
        assertEquals(ErrorCode.NONE.code(), left.members().getFirst().error());
    }

    @Test
    void joinChecksProtocolsAndSessionTimeouts() {
        CompletableFuture<JoinResult> a = join("g", range("t"));
        JoinResult bad = now(coordinator.join(new JoinRequest("g", "", null, "consumer",
                List.of(new Protocol("sticky", new byte[0])), SESSION, REBALANCE, "c", "h", false)));
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code(), bad.error());
        JoinResult otherType = now(coordinator.join(new JoinRequest("g", "", null, "connect", range("t"), SESSION,
                REBALANCE, "c", "h", false)));
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code(), otherType.error());
        JoinResult shortSession = now(coordinator.join(new JoinRequest("g", "", null, "consumer", range("t"), 10,
                REBALANCE, "c", "h", false)));
        assertEquals(ErrorCode.INVALID_SESSION_TIMEOUT.code(), shortSession.error());
        JoinResult unknown = now(coordinator.join(joinReq("g", "made-up", null, range("t"))));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), unknown.error());
        timer.advance(DELAY);
        assertEquals(ErrorCode.NONE.code(), now(a).error());
    }

    @Test
    void syncAndHeartbeatErrors() {
        JoinResult[] m = stableGroup("g", 1);
        assertEquals(ErrorCode.ILLEGAL_GENERATION.code(), now(coordinator.heartbeat("g", m[0].memberId(), null, 99)));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), now(coordinator.heartbeat("g", "x", null, m[0].generationId())));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), now(coordinator.heartbeat("nope", "x", null, 1)));
        assertEquals(ErrorCode.ILLEGAL_GENERATION.code(), now(coordinator.sync(new SyncRequest("g", 99, m[0].memberId(), null,
                null, null, Map.of()))).error());
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code(), now(coordinator.sync(new SyncRequest("g",
                m[0].generationId(), m[0].memberId(), null, "consumer", "roundrobin", Map.of()))).error());
    }

    @Test
    void offsetCommitsAreCheckedAgainstTheGroup() {
        List<OffsetCommit> offsets = List.of(new OffsetCommit(t0, 42L, -1, "meta", -1L));
        // no group, generation -1: a simple (admin) commit
        assertEquals(Map.of(t0, ErrorCode.NONE.code()), now(coordinator.commitOffsets("simple", "", null, -1, offsets, 8, -1)));
        assertEquals(42L, now(coordinator.fetchOffsets("simple", List.of(t0), false)).get(t0).offset());
        assertEquals(Map.of(t0, ErrorCode.GROUP_ID_NOT_FOUND.code()),
                now(coordinator.commitOffsets("missing", "m", null, 3, offsets, 9, -1)));
        assertEquals(Map.of(t0, ErrorCode.ILLEGAL_GENERATION.code()),
                now(coordinator.commitOffsets("missing", "m", null, 3, offsets, 8, -1)));

        JoinResult[] m = stableGroup("g", 1);
        assertEquals(Map.of(t0, ErrorCode.NONE.code()), now(coordinator.commitOffsets("g", m[0].memberId(), null,
                m[0].generationId(), offsets, 8, -1)));
        assertEquals(Map.of(t0, ErrorCode.ILLEGAL_GENERATION.code()), now(coordinator.commitOffsets("g", m[0].memberId(), null,
                m[0].generationId() + 1, offsets, 8, -1)));
        assertEquals(Map.of(t0, ErrorCode.UNKNOWN_MEMBER_ID.code()), now(coordinator.commitOffsets("g", "", null, -1, offsets, 8, -1)),
                "admin commits need an empty group");
        List<OffsetCommit> tooLarge = List.of(new OffsetCommit(t0, 1L, -1, "x".repeat(5000), -1L));
        assertEquals(Map.of(t0, ErrorCode.OFFSET_METADATA_TOO_LARGE.code()), now(coordinator.commitOffsets("g", m[0].memberId(),
                null, m[0].generationId(), tooLarge, 8, -1)));
        assertEquals("meta", now(coordinator.fetchOffsets("g", null, false)).get(t0).metadata());

        // the group consumes "t": its offsets cannot be deleted, others can
        TopicPartition other = new TopicPartition("u", 0);
        now(coordinator.commitOffsets("g", m[0].memberId(), null, m[0].generationId(),
                List.of(new OffsetCommit(other, 5L)), 8, -1));
        OffsetDeleteResult deleted = now(coordinator.deleteOffsets("g", List.of(t0, other)));
        assertEquals(ErrorCode.NONE.code(), deleted.error());
        assertEquals(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC.code(), deleted.partitions().get(t0));
        assertEquals(ErrorCode.NONE.code(), deleted.partitions().get(other));
        assertFalse(now(coordinator.fetchOffsets("g", null, false)).containsKey(other));
    }

    @Test
    void listGroupsFiltersByState() {
        stableGroup("stable", 1);
        join("joining", range("t"));
        now(coordinator.commitOffsets("offsets-only", "", null, -1, List.of(new OffsetCommit(t0, 1L)), 8, -1));
        List<GroupListing> all = now(coordinator.list(List.of(), List.of()));
        assertEquals(List.of("joining", "offsets-only", "stable"), all.stream().map(GroupListing::groupId).toList());
        assertEquals(List.of("stable"), now(coordinator.list(List.of("stable"), List.of())).stream()
                .map(GroupListing::groupId).toList());
        assertEquals(List.of("joining"), now(coordinator.list(List.of("PreparingRebalance"), List.of("classic")))
                .stream().map(GroupListing::groupId).toList());
        assertEquals(List.of(), now(coordinator.list(List.of(), List.of("consumer"))));
    }

    @Test
    void stateIsStoredWithCompareAndSetAndAnotherCoordinatorContinuesIt() {
        JoinResult[] m = stableGroup("g", 2);
        now(coordinator.flushed("g"));
        GroupState stored = now(storage.group("g")).orElseThrow();
        assertEquals("Stable", stored.state());
        assertEquals("consumer", stored.protocolType());

        // a second coordinator over the same storage (another broker, or this one restarted)
        ManualTimer timer2 = new ManualTimer();
        GroupCoordinator other = new GroupCoordinator(storage, coordinator.config(), timer2);
        assertEquals(ErrorCode.NONE.code(), now(other.heartbeat("g", m[1].memberId(), null, m[1].generationId())));
        assertArrayEquals(new byte[0], now(other.sync(new SyncRequest("g", m[1].generationId(), m[1].memberId(), null,
                null, null, Map.of()))).assignment());
        // it moves the group on: member 0 leaves there
        now(other.leave("g", List.of(new GroupCoordinator.Leaving(m[0].memberId(), null))));
        JoinResult there = now(other.join(joinReq("g", m[1].memberId(), null, range("t"))));
        assertEquals(m[1].generationId() + 1, there.generationId());
        now(other.flushed("g"));

        // this coordinator's next write loses the compare-and-set and adopts the newer generation
        assertEquals(ErrorCode.NONE.code(), heartbeat("g", m[0]), "still stale here");
        now(coordinator.leave("g", List.of(new GroupCoordinator.Leaving(m[1].memberId(), null))));
        now(coordinator.flushed("g"));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), heartbeat("g", m[0]), "adopted the stored group without member 0");
        GroupDescription d = now(coordinator.describe("g"));
        assertEquals(List.of(m[1].memberId()), d.members().stream().map(GroupDescription.MemberDescription::memberId).toList());
    }

    @Test
    void subscribedTopicsAreReadFromConsumerProtocolMetadata() {
        assertEquals(java.util.Set.of("a", "bb"), ClassicGroups.subscribedTopics(subscription("a", "bb")));
        assertEquals(java.util.Set.of(), ClassicGroups.subscribedTopics(new byte[] {1, 2}));
    }

    @Test
    void pendingMemberIdsExpireWhenTheMemberNeverComesBack() {
        JoinResult[] m = stableGroup("g", 1);
        JoinResult first = now(coordinator.join(joinReq("g", "", null, range("t"))));
        assertEquals(ErrorCode.MEMBER_ID_REQUIRED.code(), first.error());
        // the stable member rejoins (e.g. it is the leader); the pending id holds the rebalance until it expires
        CompletableFuture<JoinResult> rejoin = coordinator.join(joinReq("g", m[0].memberId(), null, range("t")))
                .toCompletableFuture();
        assertFalse(rejoin.isDone());
        timer.advance(SESSION);
        assertEquals(ErrorCode.NONE.code(), now(rejoin).error());
        assertEquals(1, now(rejoin).members().size());
    }

    @Test
    void aGroupStoredMidRebalanceRebalancesAgainWhereItIsLoaded() {
        JoinResult[] m = stableGroup("g", 2);
        // a third member starts a rebalance; the state is stored as PreparingRebalance
        CompletableFuture<JoinResult> third = join("g", range("t"));
        assertFalse(third.isDone());
        now(coordinator.flushed("g"));
        assertEquals("PreparingRebalance", now(storage.group("g")).orElseThrow().state());

        // another coordinator (a restarted broker) loads it: the known members must join again
        ManualTimer timer2 = new ManualTimer();
        GroupCoordinator restarted = new GroupCoordinator(storage, coordinator.config(), timer2);
        assertEquals(ErrorCode.REBALANCE_IN_PROGRESS.code(), now(restarted.heartbeat("g", m[0].memberId(), null, m[0].generationId())));
        CompletableFuture<JoinResult> j0 = restarted.join(joinReq("g", m[0].memberId(), null, range("t"))).toCompletableFuture();
        CompletableFuture<JoinResult> j1 = restarted.join(joinReq("g", m[1].memberId(), null, range("t"))).toCompletableFuture();
        timer2.advance(REBALANCE); // the third member never comes back there
        JoinResult r0 = now(j0);
        assertEquals(ErrorCode.NONE.code(), r0.error());
        assertEquals(m[0].generationId() + 1, r0.generationId(), "the generation continues from storage");
        assertEquals(ErrorCode.NONE.code(), now(j1).error());
        assertEquals(2, r0.members().size() + now(j1).members().size(), "only the leader lists the members");
    }

    @Test
    void transactionalOffsetCommitsAreCheckedAgainstTheGroup() {
        kiri.storage.api.ProducerIdAndEpoch producer = now(storage.initProducerId("tx", 60_000,
                kiri.storage.api.ProducerIdAndEpoch.NONE));
        now(storage.addOffsetsToTxn("tx", producer, "g"));
        List<OffsetCommit> offsets = List.of(new OffsetCommit(t0, 7L));
        // no group: a producer that is not a consumer may commit for it
        assertEquals(Map.of(t0, ErrorCode.NONE.code()), now(coordinator.txnCommitOffsets("tx", producer, "g", "", null, -1, offsets)));
        JoinResult[] m = stableGroup("g", 1);
        assertEquals(Map.of(t0, ErrorCode.ILLEGAL_GENERATION.code()), now(coordinator.txnCommitOffsets("tx", producer, "g",
                m[0].memberId(), null, m[0].generationId() + 1, offsets)));
        assertEquals(Map.of(t0, ErrorCode.UNKNOWN_MEMBER_ID.code()), now(coordinator.txnCommitOffsets("tx", producer, "g",
                "stranger", null, m[0].generationId(), offsets)));
        assertEquals(Map.of(t0, ErrorCode.NONE.code()), now(coordinator.txnCommitOffsets("tx", producer, "g",
                m[0].memberId(), null, m[0].generationId(), offsets)));
        assertFalse(now(coordinator.fetchOffsets("g", List.of(t0), false)).containsKey(t0), "pending until the commit");
        now(storage.endTxn("tx", producer, true, false));
        assertEquals(7L, now(coordinator.fetchOffsets("g", List.of(t0), false)).get(t0).offset());
    }
}
