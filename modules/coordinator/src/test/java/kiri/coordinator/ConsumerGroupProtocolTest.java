package kiri.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import kiri.storage.api.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The consumer group protocol (KIP-848) driven directly: epochs, the reconciliation rule, fencing, timeouts. */
class ConsumerGroupProtocolTest {
    private final Storage storage = Storages.open("null://", new StorageContext(0, "c", "localhost", 9092));
    private final ManualTimer timer = new ManualTimer();
    private final GroupCoordinator coordinator = new GroupCoordinator(storage,
            CoordinatorConfig.defaults().withInitialRebalanceDelayMs(0), timer);
    private UUID t;

    @BeforeEach
    void topic() {
        t = now(storage.createTopic(new NewTopic("t", 4, (short) 1, Map.of()), false)).id();
    }

    @AfterEach
    void close() {
        coordinator.close();
        storage.close();
    }

    private static <T> T now(CompletionStage<T> stage) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        assertTrue(f.isDone(), "expected an answer now");
        return f.join();
    }

    private ConsumerHeartbeat hb(String member, int epoch, List<String> topics, Map<UUID, List<Integer>> owned,
                                 String assignor) {
        return new ConsumerHeartbeat("g", member, epoch, null, null, epoch == 0 ? 300_000 : -1, topics, null, assignor,
                owned, "client-" + member, "/127.0.0.1", 1);
    }

    private ConsumerHeartbeatResult join(String member) {
        ConsumerHeartbeatResult r = now(coordinator.consumerHeartbeat(hb(member, 0, List.of("t"), Map.of(), null)));
        assertEquals(ErrorCode.NONE.code(), r.error(), String.valueOf(r.errorMessage()));
        return r;
    }

    private ConsumerHeartbeatResult beat(String member, int epoch, Map<UUID, List<Integer>> owned) {
        return now(coordinator.consumerHeartbeat(hb(member, epoch, null, owned, null)));
    }

    private Map<UUID, List<Integer>> owns(Integer... partitions) {
        return partitions.length == 0 ? Map.of() : Map.of(t, List.of(partitions));
    }

    private List<Integer> partitions(ConsumerHeartbeatResult r) {
        assertNotNull(r.assignment(), "an assignment");
        return r.assignment().getOrDefault(t, List.of());
    }

    @Test
    void aJoiningMemberGetsPartitionsOnlyAfterTheirOwnerRevokedThem() {
        ConsumerHeartbeatResult a = join("a");
        assertEquals(1, a.memberEpoch());
        assertEquals(List.of(0, 1, 2, 3), partitions(a));
        assertEquals(5_000, a.heartbeatIntervalMs());

        ConsumerHeartbeatResult b = join("b");
        assertEquals(2, b.memberEpoch(), "b is at the new group epoch");
        assertEquals(List.of(), partitions(b), "a still owns everything b's target holds");

        // a learns what it must give up; it keeps its epoch until it has
        ConsumerHeartbeatResult a2 = beat("a", 1, null);
        assertEquals(1, a2.memberEpoch());
        List<Integer> kept = partitions(a2);
        assertEquals(2, kept.size());

        // a heartbeat that still reports the revoked partitions changes nothing, for a or for b
        assertEquals(1, beat("a", 1, owns(0, 1, 2, 3)).memberEpoch());
        ConsumerHeartbeatResult b2 = beat("b", 2, Map.of());
        assertEquals(List.of(), b2.assignment() == null ? List.of() : partitions(b2));
        assertTrue(coordinator.consumerGroupState("g").contains("Reconciling"));

        // a reports it no longer owns them: it moves to epoch 2, and b gets them on its next heartbeat
        ConsumerHeartbeatResult a3 = beat("a", 1, Map.of(t, kept));
        assertEquals(2, a3.memberEpoch());
        ConsumerHeartbeatResult b3 = beat("b", 2, null);
        assertEquals(2, b3.memberEpoch());
        List<Integer> bs = partitions(b3);
        Set<Integer> all = new TreeSet<>(kept);
        all.addAll(bs);
        assertEquals(Set.of(0, 1, 2, 3), all);
        assertEquals(2, bs.size());
        assertTrue(coordinator.consumerGroupState("g").startsWith("epoch=2 Stable"), coordinator.consumerGroupState("g"));

        ConsumerGroupDescription d = now(coordinator.describeConsumerGroup("g"));
        assertEquals("Stable", d.state());
        assertEquals("uniform", d.assignorName());
        assertEquals(2, d.members().size());
        assertEquals("t", d.topicNames().get(t));
    }

    @Test
    void aMemberThatAlreadyDroppedThePartitionsSkipsTheRevocationStep() {
        join("a");
        join("b");
        // a tells in the same heartbeat that it owns only 0 and 1 (which its target keeps)
        ConsumerHeartbeatResult a = beat("a", 1, owns(0, 1));
        assertEquals(2, a.memberEpoch());
        assertEquals(List.of(0, 1), partitions(a));
    }

    @Test
    void wrongEpochsAreFencedAndUnknownMembersRejected() {
        join("a");
        assertEquals(ErrorCode.FENCED_MEMBER_EPOCH.code(), beat("a", 7, null).error());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), beat("nobody", 1, null).error());
        join("b");
        beat("a", 1, owns(0, 1)); // a moves to epoch 2
        // the previous epoch is accepted only with a subset of the current assignment
        assertEquals(ErrorCode.NONE.code(), beat("a", 1, owns(0, 1)).error());
        assertEquals(ErrorCode.FENCED_MEMBER_EPOCH.code(), beat("a", 1, owns(0, 1, 2)).error());
        assertEquals(ErrorCode.FENCED_MEMBER_EPOCH.code(), beat("a", 1, null).error());
        // a fenced member rejoins with epoch 0 and the same id
        ConsumerHeartbeatResult again = now(coordinator.consumerHeartbeat(hb("a", 0, List.of("t"), Map.of(), null)));
        assertEquals(ErrorCode.NONE.code(), again.error());
    }

    @Test
    void invalidRequestsAreRefusedClearly() {
        ConsumerHeartbeatResult noId = now(coordinator.consumerHeartbeat(hb("", 0, List.of("t"), Map.of(), null)));
        assertEquals(ErrorCode.INVALID_REQUEST.code(), noId.error());
        ConsumerHeartbeatResult assignor = now(coordinator.consumerHeartbeat(hb("a", 0, List.of("t"), Map.of(), "sticky")));
        assertEquals(ErrorCode.UNSUPPORTED_ASSIGNOR.code(), assignor.error());
        ConsumerHeartbeatResult regex = now(coordinator.consumerHeartbeat(new ConsumerHeartbeat("g", "a", 0, null,
                null, 1000, null, "t(", null, Map.of(), "c", "h", 1)));
        assertEquals(ErrorCode.INVALID_REGULAR_EXPRESSION.code(), regex.error());
    }

    @Test
    void aLeavingOrSilentMemberHandsItsPartitionsOver() {
        join("a");
        join("b");
        join("c");
        assertEquals(ErrorCode.NONE.code(), beat("c", -1, null).error());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), beat("c", -1, null).error(), "c has left: a second leave is unknown");
        // b stops heartbeating; a keeps going and ends with every partition
        for (int i = 0; i < 12; i++) {
            timer.advance(5_000);
            ConsumerHeartbeatResult a = beat("a", memberEpoch("a"), owned("a"));
            assertEquals(ErrorCode.NONE.code(), a.error());
        }
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), beat("b", 3, null).error(), "b expired after 45 s");
        assertTrue(coordinator.consumerGroupState("g").contains(":STABLE{" + t + "=[0, 1, 2, 3]}"),
                coordinator.consumerGroupState("g"));
    }

    @Test
    void aMemberThatDoesNotRevokeInTimeIsRemoved() {
        join("a");
        join("b");
        beat("a", 1, null); // told to revoke two partitions
        for (int i = 0; i < 59; i++) {
            timer.advance(5_000);
            assertEquals(ErrorCode.NONE.code(), beat("b", 2, Map.of()).error());
            assertEquals(ErrorCode.NONE.code(), beat("a", 1, owns(0, 1, 2, 3)).error()); // heartbeats but never revokes
        }
        timer.advance(5_000); // its rebalance timeout (300 s) passes
        ConsumerHeartbeatResult b = beat("b", memberEpoch("b"), owned("b"));
        assertEquals(List.of(0, 1, 2, 3), partitions(b));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), beat("a", 1, null).error());
    }

    @Test
    void newPartitionsAreAssignedOnLaterHeartbeats() {
        join("a");
        now(storage.createPartitions("t", 6, false));
        ConsumerHeartbeatResult a = beat("a", 1, owns(0, 1, 2, 3));
        assertEquals(2, a.memberEpoch());
        assertEquals(List.of(0, 1, 2, 3, 4, 5), partitions(a));
        UUID u = now(storage.createTopic(new NewTopic("u", 1, (short) 1, Map.of()), false)).id();
        ConsumerHeartbeatResult sub = now(coordinator.consumerHeartbeat(hb("a", 2, List.of("t", "u"), null, null)));
        assertEquals(3, sub.memberEpoch());
        assertEquals(List.of(0), sub.assignment().get(u));
    }

    @Test
    void theRangeAssignorGivesContiguousRanges() {
        now(coordinator.consumerHeartbeat(hb("a", 0, List.of("t"), Map.of(), "range")));
        now(coordinator.consumerHeartbeat(hb("b", 0, List.of("t"), Map.of(), "range")));
        ConsumerHeartbeatResult a = beat("a", 1, owns(0, 1));
        assertEquals(List.of(0, 1), partitions(a));
        ConsumerHeartbeatResult b = beat("b", 2, Map.of());
        assertEquals(List.of(2, 3), partitions(b));
        assertEquals("range", now(coordinator.describeConsumerGroup("g")).assignorName());
    }

    @Test
    void offsetCommitsAndFetchesAreCheckedAgainstTheMemberEpoch() {
        join("a");
        List<OffsetCommit> offsets = List.of(new OffsetCommit(new TopicPartition("t", 0), 5, -1, "", -1L));
        assertEquals(ErrorCode.NONE.code(), now(coordinator.commitOffsets("g", "a", null, 1, offsets, 9, -1)).values().iterator().next());
        assertEquals(ErrorCode.STALE_MEMBER_EPOCH.code(),
                now(coordinator.commitOffsets("g", "a", null, 0, offsets, 9, -1)).values().iterator().next());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(),
                now(coordinator.commitOffsets("g", "x", null, 1, offsets, 9, -1)).values().iterator().next());
        assertEquals(ErrorCode.UNSUPPORTED_VERSION.code(),
                now(coordinator.commitOffsets("g", "a", null, 1, offsets, 8, -1)).values().iterator().next());
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(),
                now(coordinator.commitOffsets("g", "", null, -1, offsets, 9, -1)).values().iterator().next(),
                "admin commits only to an empty group");
        assertEquals(ErrorCode.NONE.code(), now(coordinator.validateOffsetFetch("g", "a", 1)));
        assertEquals(ErrorCode.STALE_MEMBER_EPOCH.code(), now(coordinator.validateOffsetFetch("g", "a", 3)));
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), now(coordinator.validateOffsetFetch("g", "x", 1)));
        assertEquals(ErrorCode.NONE.code(), now(coordinator.validateOffsetFetch("g", null, -1)));
    }

    @Test
    void aGroupIdIsEitherClassicOrConsumer() {
        join("a");
        JoinResult classic = now(coordinator.join(new JoinRequest("g", "", null, "consumer",
                List.of(new Protocol("range", new byte[0])), 10_000, 30_000, "c", "h", false)));
        assertEquals(ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code(), classic.error());
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND.code(), now(coordinator.describe("g")).error());
        var listed = now(coordinator.list(List.of(), List.of("consumer")));
        assertEquals(1, listed.size());
        assertEquals("consumer", listed.getFirst().type());
        assertEquals(ErrorCode.NON_EMPTY_GROUP.code(), now(coordinator.delete("g")));

        // a classic group with members refuses consumer members
        coordinator.join(new JoinRequest("cg", "", null, "consumer", List.of(new Protocol("range", new byte[0])),
                10_000, 30_000, "c", "h", false));
        ConsumerHeartbeatResult r = now(coordinator.consumerHeartbeat(new ConsumerHeartbeat("cg", "m", 0, null, null,
                1000, List.of("t"), null, null, Map.of(), "c", "h", 1)));
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND.code(), r.error());
        assertEquals(ErrorCode.GROUP_ID_NOT_FOUND.code(), now(coordinator.describeConsumerGroup("cg")).error());

        // once its last member leaves, the consumer group can be deleted
        assertEquals(ErrorCode.NONE.code(), beat("a", -1, null).error());
        assertEquals("Empty", now(coordinator.describeConsumerGroup("g")).state());
        assertEquals(ErrorCode.NONE.code(), now(coordinator.delete("g")));
    }

    @Test
    void membersEpochsAndAssignmentsSurviveARestart() {
        join("a");
        join("b");
        ConsumerHeartbeatResult a = beat("a", 1, owns(0, 1));
        assertEquals(2, a.memberEpoch());
        beat("b", 2, Map.of());
        now(coordinator.flushed("g"));
        String before = coordinator.consumerGroupState("g");
        assertEquals("consumer", now(storage.group("g")).orElseThrow().type());

        ManualTimer timer2 = new ManualTimer();
        GroupCoordinator restarted = new GroupCoordinator(storage, coordinator.config(), timer2);
        assertEquals(before, restarted.consumerGroupState("g"));
        ConsumerHeartbeatResult again = now(restarted.consumerHeartbeat(hb("a", 2, null, null, null)));
        assertEquals(ErrorCode.NONE.code(), again.error());
        assertEquals(2, again.memberEpoch());
        List<OffsetCommit> offsets = List.of(new OffsetCommit(new TopicPartition("t", 0), 5, -1, "", -1L));
        assertEquals(ErrorCode.NONE.code(), now(restarted.commitOffsets("g", "a", null, 2, offsets, 9, -1)).values().iterator().next());
        // b never comes back: it expires a session timeout after the restart, and a gets everything
        int epoch = 2;
        List<Integer> mine = List.of(0, 1);
        for (int i = 0; i < 10; i++) {
            timer2.advance(5_000);
            ConsumerHeartbeatResult r = now(restarted.consumerHeartbeat(hb("a", epoch, null, null, null)));
            assertEquals(ErrorCode.NONE.code(), r.error());
            epoch = r.memberEpoch();
            if (r.assignment() != null) mine = r.assignment().get(t);
        }
        assertEquals(3, epoch);
        assertEquals(List.of(0, 1, 2, 3), mine);
        restarted.close();
    }

    private ConsumerHeartbeatResult staticHb(String member, int epoch, String instance, Map<UUID, List<Integer>> owned) {
        return now(coordinator.consumerHeartbeat(new ConsumerHeartbeat("g", member, epoch, instance, null,
                epoch == 0 ? 300_000 : -1, epoch == 0 ? List.of("t") : null, null, null, owned, "c", "h", 1)));
    }

    @Test
    void aStaticMemberLeavesTemporarilyAndItsNextInstanceTakesOverWithoutARebalance() {
        assertEquals(ErrorCode.NONE.code(), staticHb("s1", 0, "instance-1", Map.of()).error());
        join("b");
        ConsumerHeartbeatResult s1 = staticHb("s1", 1, null, owns(0, 1)); // keeps two, b gets the others later
        assertEquals(2, s1.memberEpoch());
        List<Integer> kept = partitions(s1);
        beat("b", 2, Map.of());

        // the instance restarts: it leaves with -2 and keeps its partitions
        ConsumerHeartbeatResult left = staticHb("s1", -2, "instance-1", null);
        assertEquals(ErrorCode.NONE.code(), left.error());
        assertEquals(-2, left.memberEpoch());
        assertTrue(coordinator.consumerGroupState("g").startsWith("epoch=2 "), coordinator.consumerGroupState("g"));
        // while it is still in the group, another member cannot take its instance id... unless it left (it did)
        ConsumerHeartbeatResult s2 = staticHb("s2", 0, "instance-1", Map.of());
        assertEquals(ErrorCode.NONE.code(), s2.error());
        assertEquals(2, s2.memberEpoch(), "no new group epoch");
        assertEquals(kept, partitions(s2));
        // the old member id is fenced out; a third instance cannot join while s2 holds the id
        assertEquals(ErrorCode.UNKNOWN_MEMBER_ID.code(), staticHb("s1", 2, null, null).error());
        assertEquals(ErrorCode.UNRELEASED_INSTANCE_ID.code(), staticHb("s3", 0, "instance-1", Map.of()).error());
        // a static member leaving for good (-1) hands its partitions over
        assertEquals(ErrorCode.NONE.code(), staticHb("s2", -1, "instance-1", null).error());
        ConsumerHeartbeatResult b = beat("b", 2, null);
        assertEquals(3, b.memberEpoch());
        assertEquals(List.of(0, 1, 2, 3), partitions(b));
    }

    @Test
    void aStaticMemberThatDoesNotComeBackExpires() {
        staticHb("s1", 0, "instance-1", Map.of());
        join("b");
        staticHb("s1", -2, "instance-1", null);
        for (int i = 0; i < 10; i++) {
            timer.advance(5_000);
            beat("b", memberEpoch("b"), owned("b"));
        }
        assertTrue(coordinator.consumerGroupState("g").contains(":STABLE{" + t + "=[0, 1, 2, 3]}"),
                coordinator.consumerGroupState("g"));
    }

    private int memberEpoch(String member) {
        return now(coordinator.describeConsumerGroup("g")).members().stream().filter(m -> m.memberId().equals(member))
                .findFirst().orElseThrow().memberEpoch();
    }

    private Map<UUID, List<Integer>> owned(String member) {
        return now(coordinator.describeConsumerGroup("g")).members().stream().filter(m -> m.memberId().equals(member))
                .findFirst().orElseThrow().assignment();
    }

    @Test
    void theUniformAssignorIsBalancedAndSticky() {
        UUID x = UUID.randomUUID();
        Map<String, Assignors.TopicMeta> topics = Map.of("x", new Assignors.TopicMeta(x, 7));
        Map<String, Set<String>> subs = new java.util.LinkedHashMap<>();
        subs.put("m1", Set.of("x"));
        subs.put("m2", Set.of("x"));
        Map<String, Assignment> first = Assignors.uniform(subs, topics, Map.of());
        assertEquals(Set.of(3, 4), Set.of(first.get("m1").size(), first.get("m2").size()));
        subs.put("m3", Set.of("x"));
        Map<String, Assignment> second = Assignors.uniform(subs, topics, first);
        List<Integer> sizes = new ArrayList<>();
        for (Assignment a : second.values()) sizes.add(a.size());
        sizes.sort(null);
        assertEquals(List.of(2, 2, 3), sizes);
        // nothing moved between m1 and m2: they only gave partitions to m3
        assertTrue(first.get("m1").plus(first.get("m2")).intersect(second.get("m1")).equals(second.get("m1")));
        assertTrue(second.get("m1").subsetOf(first.get("m1")));
        assertTrue(second.get("m2").subsetOf(first.get("m2")));
        assertNull(second.get("m4"));
    }
}
