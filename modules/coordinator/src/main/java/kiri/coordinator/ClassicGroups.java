package kiri.coordinator;

import static kiri.coordinator.GroupTable.code;
import static kiri.coordinator.GroupTable.reply;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.storage.api.GroupState;

/**
 * Kafka's classic group protocol: JoinGroup, SyncGroup, Heartbeat and LeaveGroup, and the rebalance
 * state machine behind them.
 *
 * <p>Empty → PreparingRebalance (a member joins, leaves, expires or changes its protocols) →
 * CompletingRebalance (every known member rejoined, or the rebalance timeout passed; the generation
 * is bumped, the protocol chosen and the join responses sent) → Stable (the leader's SyncGroup
 * delivered every member's assignment). A group whose last member goes is Empty again. Join and sync
 * responses are futures completed when the rebalance gets there. Session and rebalance timeouts are
 * tasks on the {@link Timer}; nothing polls. Every change is written behind ({@link GroupWriteBehind}).
 *
 * <p>Threading: the entry points may be called from any thread and never block; they run under the
 * group's monitor through {@link GroupTable}, as do the timer tasks. The package-private helpers
 * ({@link #scheduleExpiry}, {@link #restore}) are called holding it.
 */
record ClassicGroups(GroupTable table, GroupWriteBehind writeBehind, Timer timer, CoordinatorConfig config) {
    private static final System.Logger LOG = System.getLogger(GroupCoordinator.class.getName());

    CompletionStage<JoinResult> join(JoinRequest r) {
        if (r.groupId().isEmpty()) {
            return CompletableFuture.completedFuture(JoinResult.error(ErrorCode.INVALID_GROUP_ID.code(), r.memberId()));
        }
        if (r.sessionTimeoutMs() < config.minSessionTimeoutMs() || r.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
            return CompletableFuture.completedFuture(JoinResult.error(ErrorCode.INVALID_SESSION_TIMEOUT.code(), r.memberId()));
        }
        if (r.protocolType().isEmpty() || r.protocols().isEmpty()) {
            return CompletableFuture.completedFuture(JoinResult.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code(), r.memberId()));
        }
        return table.run(r.groupId(), g -> {
            CompletableFuture<JoinResult> out = new CompletableFuture<>();
            join(g, r, out);
            return out;
        }).thenCompose(f -> f).exceptionally(t -> JoinResult.error(code(t), r.memberId()));
    }

    private void join(Group g, JoinRequest r, CompletableFuture<JoinResult> out) {
        if (g.dead) {
            reply(g, out, JoinResult.error(ErrorCode.COORDINATOR_NOT_AVAILABLE.code(), r.memberId()));
            return;
        }
        if (g.consumer != null) {
            if (!g.consumer.members.isEmpty()) {
                // classic members do not join a consumer group (Kafka's migration of members is not supported)
                reply(g, out, JoinResult.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code(), r.memberId()));
                return;
            }
            g.consumer = null; // an empty consumer group becomes a classic one, as in Kafka
        }
        if (!g.supports(r.protocolType(), r.protocols())) {
            reply(g, out, JoinResult.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code(), r.memberId()));
            return;
        }
        if (r.memberId().isEmpty()) {
            String newId = r.clientId() + "-" + UUID.randomUUID();
            if (r.groupInstanceId() != null) {
                String old = g.staticMembers.get(r.groupInstanceId());
                if (old != null && g.members.containsKey(old)) {
                    replaceStaticMember(g, r, g.members.get(old), newId, out);
                } else {
                    addMemberAndRebalance(g, r, newId, out);
                }
            } else if (r.requireKnownMemberId()) {
                // KIP-394: the member must come back with this id; until then it counts as pending
                g.pendingMembers.put(newId, timer.schedule(r.sessionTimeoutMs(), () -> table.locked(g, () -> {
                    if (g.pendingMembers.remove(newId) != null) tryCompleteJoin(g);
                })));
                reply(g, out, JoinResult.error(ErrorCode.MEMBER_ID_REQUIRED.code(), newId));
            } else {
                addMemberAndRebalance(g, r, newId, out);
            }
            return;
        }
        String memberId = r.memberId();
        Timer.Task pending = g.pendingMembers.remove(memberId);
        if (pending != null) {
            pending.cancel();
            addMemberAndRebalance(g, r, memberId, out);
            return;
        }
        Member m = g.members.get(memberId);
        if (r.groupInstanceId() != null) {
            String current = g.staticMembers.get(r.groupInstanceId());
            if (current != null && !current.equals(memberId)) {
                reply(g, out, JoinResult.error(ErrorCode.FENCED_INSTANCE_ID.code(), memberId));
                return;
            }
        }
        if (m == null) {
            reply(g, out, JoinResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code(), memberId));
            return;
        }
        switch (g.state) {
            case PREPARING_REBALANCE -> {
                m.update(r);
                awaitJoin(g, m, out);
                tryCompleteJoin(g);
            }
            case COMPLETING_REBALANCE -> {
                if (m.sameProtocols(r.protocols())) {
                    reply(g, out, currentGeneration(g, m, false)); // a retried join: same answer
                } else {
                    m.update(r);
                    awaitJoin(g, m, out);
                    prepareRebalance(g);
                }
            }
            case STABLE -> {
                if (memberId.equals(g.leaderId) || !m.sameProtocols(r.protocols())) {
                    m.update(r);
                    awaitJoin(g, m, out);
                    prepareRebalance(g);
                } else {
                    scheduleExpiry(g, m);
                    reply(g, out, currentGeneration(g, m, false));
                }
            }
            case EMPTY, DEAD -> reply(g, out, JoinResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code(), memberId));
        }
    }

    private static void awaitJoin(Group g, Member m, CompletableFuture<JoinResult> out) {
        if (m.awaitingJoin != null && m.awaitingJoin != out) {
            reply(g, m.awaitingJoin, JoinResult.error(ErrorCode.REBALANCE_IN_PROGRESS.code(), m.memberId)); // superseded by a newer join
        }
        m.awaitingJoin = out;
    }

    private static JoinResult currentGeneration(Group g, Member m, boolean skipAssignment) {
        boolean leader = m.memberId.equals(g.leaderId);
        return new JoinResult(ErrorCode.NONE.code(), g.generation, g.protocolType, g.protocolName, g.leaderId, skipAssignment && leader,
                m.memberId, leader ? g.joinedMembers() : List.of());
    }

    private void addMemberAndRebalance(Group g, JoinRequest r, String memberId, CompletableFuture<JoinResult> out) {
        Member m = Member.of(memberId, r);
        if (g.members.isEmpty()) g.protocolType = r.protocolType();
        g.members.put(memberId, m);
        if (r.groupInstanceId() != null) g.staticMembers.put(r.groupInstanceId(), memberId);
        if (g.leaderId == null) g.leaderId = memberId;
        m.awaitingJoin = out;
        switch (g.state) {
            case PREPARING_REBALANCE -> tryCompleteJoin(g);
            default -> prepareRebalance(g);
        }
        writeBehind.markDirty(g);
    }

    /** A static member came back with a new member id: it takes over the old one's place (fencing it). */
    private void replaceStaticMember(Group g, JoinRequest r, Member old, String newId, CompletableFuture<JoinResult> out) {
        Member m = Member.of(newId, r);
        m.assignment = old.assignment;
        old.cancelExpiry();
        if (old.awaitingJoin != null) reply(g, old.awaitingJoin, JoinResult.error(ErrorCode.FENCED_INSTANCE_ID.code(), old.memberId));
        if (old.awaitingSync != null) reply(g, old.awaitingSync, SyncResult.error(ErrorCode.FENCED_INSTANCE_ID.code()));
        old.awaitingJoin = null;
        old.awaitingSync = null;
        LinkedHashMap<String, Member> copy = new LinkedHashMap<>(g.members);
        g.members.clear();
        copy.forEach((id, member) -> g.members.put(id.equals(old.memberId) ? newId : id, id.equals(old.memberId) ? m : member));
        g.staticMembers.put(r.groupInstanceId(), newId);
        if (old.memberId.equals(g.leaderId)) g.leaderId = newId;
        // consumers' metadata also carries owned partitions and a generation, which a restarted
        // instance does not have: for them the subscription is what must not have changed
        boolean unchanged = g.protocolName != null && m.supports(g.protocolName)
                && (Group.CONSUMER.equals(g.protocolType)
                        ? subscribedTopics(old.metadata(g.protocolName)).equals(subscribedTopics(m.metadata(g.protocolName)))
                        : Arrays.equals(old.metadata(g.protocolName), m.metadata(g.protocolName)));
        switch (g.state) {
            case STABLE -> {
                if (unchanged) {
                    // no rebalance: the assignment stands; a leader is told it may skip assigning (v9+)
                    scheduleExpiry(g, m);
                    reply(g, out, currentGeneration(g, m, true));
                } else {
                    m.awaitingJoin = out;
                    prepareRebalance(g);
                }
            }
            case PREPARING_REBALANCE -> {
                m.awaitingJoin = out;
                tryCompleteJoin(g);
            }
            default -> {
                m.awaitingJoin = out;
                prepareRebalance(g);
            }
        }
        writeBehind.markDirty(g);
    }

    private void prepareRebalance(Group g) {
        if (g.state == GroupPhase.COMPLETING_REBALANCE) {
            for (Member m : g.members.values()) {
                m.assignment = Member.EMPTY;
                if (m.awaitingSync != null) {
                    reply(g, m.awaitingSync, SyncResult.error(ErrorCode.REBALANCE_IN_PROGRESS.code()));
                    m.awaitingSync = null;
                }
            }
        }
        boolean initial = g.state == GroupPhase.EMPTY;
        g.state = GroupPhase.PREPARING_REBALANCE;
        long delay = g.maxRebalanceTimeoutMs();
        g.initialDelayActive = initial && config.initialRebalanceDelayMs() > 0;
        if (g.initialDelayActive) delay = Math.min(delay, config.initialRebalanceDelayMs());
        startRebalanceTimer(g, delay);
        writeBehind.markDirty(g);
        tryCompleteJoin(g);
    }

    private void startRebalanceTimer(Group g, long delayMs) {
        if (g.rebalanceTimer != null) g.rebalanceTimer.cancel();
        Object token = new Object();
        g.rebalanceToken = token;
        g.rebalanceTimer = timer.schedule(delayMs, () -> table.locked(g, () -> {
            if (g.rebalanceToken == token && g.state == GroupPhase.PREPARING_REBALANCE && !g.dead) completeJoin(g);
        }));
    }

    private void tryCompleteJoin(Group g) {
        if (g.state != GroupPhase.PREPARING_REBALANCE || g.initialDelayActive || !g.pendingMembers.isEmpty()) return;
        for (Member m : g.members.values()) {
            if (m.awaitingJoin == null) return;
        }
        completeJoin(g);
    }

    /** Ends the join phase: members that did not rejoin are dropped, the next generation begins. */
    private void completeJoin(Group g) {
        if (g.rebalanceTimer != null) g.rebalanceTimer.cancel();
        g.rebalanceTimer = null;
        g.rebalanceToken = null;
        g.initialDelayActive = false;
        for (Member m : List.copyOf(g.members.values())) {
            if (m.awaitingJoin == null) dropMember(g, m);
        }
        g.generation++;
        if (g.members.isEmpty()) {
            g.state = GroupPhase.EMPTY;
            g.protocolName = null;
            g.leaderId = null;
            writeBehind.markDirty(g);
            return;
        }
        g.protocolName = g.selectProtocol();
        if (g.leaderId == null || !g.members.containsKey(g.leaderId)) g.leaderId = g.members.keySet().iterator().next();
        g.state = GroupPhase.COMPLETING_REBALANCE;
        List<JoinResult.JoinedMember> all = g.joinedMembers();
        for (Member m : g.members.values()) {
            boolean leader = m.memberId.equals(g.leaderId);
            reply(g, m.awaitingJoin, new JoinResult(ErrorCode.NONE.code(), g.generation, g.protocolType, g.protocolName,
                    g.leaderId, false, m.memberId, leader ? all : List.of()));
            m.awaitingJoin = null;
            scheduleExpiry(g, m);
        }
        writeBehind.markDirty(g);
    }

    /** Removes a member without triggering anything (the caller decides what the group does next). */
    private static void dropMember(Group g, Member m) {
        g.members.remove(m.memberId);
        if (m.groupInstanceId != null && m.memberId.equals(g.staticMembers.get(m.groupInstanceId))) {
            g.staticMembers.remove(m.groupInstanceId);
        }
        m.cancelExpiry();
        if (m.awaitingJoin != null) reply(g, m.awaitingJoin, JoinResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code(), m.memberId));
        if (m.awaitingSync != null) reply(g, m.awaitingSync, SyncResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code()));
        m.awaitingJoin = null;
        m.awaitingSync = null;
        if (m.memberId.equals(g.leaderId)) {
            g.leaderId = g.members.isEmpty() ? null : g.members.keySet().iterator().next();
        }
    }

    /** A member left or expired: the others rebalance without it. */
    private void removeMember(Group g, Member m) {
        dropMember(g, m);
        switch (g.state) {
            case STABLE, COMPLETING_REBALANCE -> prepareRebalance(g);
            case PREPARING_REBALANCE -> tryCompleteJoin(g);
            default -> {
            }
        }
        writeBehind.markDirty(g);
    }

    /** (Re)starts a member's session timeout: it is removed unless it is heard from within it. */
    void scheduleExpiry(Group g, Member m) {
        m.cancelExpiry();
        m.expiry = timer.schedule(m.sessionTimeoutMs, () -> table.locked(g, () -> {
            if (g.members.get(m.memberId) != m || g.dead) return;
            if (m.awaitingJoin != null || m.awaitingSync != null) {
                scheduleExpiry(g, m); // waiting on us, not silent
                return;
            }
            LOG.log(Level.INFO, "group {0}: member {1} expired after {2} ms without a heartbeat",
                    g.groupId, m.memberId, m.sessionTimeoutMs);
            removeMember(g, m);
        }));
    }

    CompletionStage<SyncResult> sync(SyncRequest r) {
        return table.run(r.groupId(), g -> {
            CompletableFuture<SyncResult> out = new CompletableFuture<>();
            sync(g, r, out);
            return out;
        }).thenCompose(f -> f).exceptionally(t -> SyncResult.error(code(t)));
    }

    private void sync(Group g, SyncRequest r, CompletableFuture<SyncResult> out) {
        short error = checkMember(g, r.memberId(), r.groupInstanceId(), r.generationId());
        if (error == ErrorCode.NONE.code() && ((r.protocolType() != null && !r.protocolType().equals(g.protocolType))
                || (r.protocolName() != null && !r.protocolName().equals(g.protocolName)))) {
            error = ErrorCode.INCONSISTENT_GROUP_PROTOCOL.code();
        }
        if (error != ErrorCode.NONE.code()) {
            reply(g, out, SyncResult.error(error));
            return;
        }
        Member m = g.members.get(r.memberId());
        switch (g.state) {
            case PREPARING_REBALANCE -> reply(g, out, SyncResult.error(ErrorCode.REBALANCE_IN_PROGRESS.code()));
            case STABLE -> {
                scheduleExpiry(g, m);
                reply(g, out, new SyncResult(ErrorCode.NONE.code(), g.protocolType, g.protocolName, m.assignment));
            }
            case COMPLETING_REBALANCE -> {
                if (m.awaitingSync != null && m.awaitingSync != out) {
                    reply(g, m.awaitingSync, SyncResult.error(ErrorCode.REBALANCE_IN_PROGRESS.code()));
                }
                m.awaitingSync = out;
                scheduleExpiry(g, m);
                if (m.memberId.equals(g.leaderId)) {
                    for (Member member : g.members.values()) {
                        byte[] a = r.assignments().get(member.memberId);
                        member.assignment = a == null ? Member.EMPTY : a;
                    }
                    g.state = GroupPhase.STABLE;
                    for (Member member : g.members.values()) {
                        if (member.awaitingSync != null) {
                            reply(g, member.awaitingSync,
                                    new SyncResult(ErrorCode.NONE.code(), g.protocolType, g.protocolName, member.assignment));
                            member.awaitingSync = null;
                        }
                    }
                    writeBehind.markDirty(g);
                }
            }
            default -> reply(g, out, SyncResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code()));
        }
    }

    /** The checks SyncGroup, Heartbeat and member commits share. */
    static short checkMember(Group g, String memberId, String instanceId, int generation) {
        if (g.dead) return ErrorCode.COORDINATOR_NOT_AVAILABLE.code();
        if (instanceId != null) {
            String current = g.staticMembers.get(instanceId);
            if (current != null && !current.equals(memberId)) return ErrorCode.FENCED_INSTANCE_ID.code();
        }
        if (!g.members.containsKey(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID.code();
        if (generation != g.generation) return ErrorCode.ILLEGAL_GENERATION.code();
        return ErrorCode.NONE.code();
    }

    /** Heartbeat: NONE, REBALANCE_IN_PROGRESS (rejoin), ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. */
    CompletionStage<Short> heartbeat(String groupId, String memberId, String groupInstanceId, int generationId) {
        return table.run(groupId, g -> {
            short[] out = new short[1];
            {
                short error = checkMember(g, memberId, groupInstanceId, generationId);
                if (error == ErrorCode.NONE.code()) {
                    switch (g.state) {
                        case EMPTY, DEAD -> error = ErrorCode.UNKNOWN_MEMBER_ID.code();
                        case PREPARING_REBALANCE -> {
                            scheduleExpiry(g, g.members.get(memberId));
                            error = ErrorCode.REBALANCE_IN_PROGRESS.code();
                        }
                        default -> scheduleExpiry(g, g.members.get(memberId));
                    }
                }
                out[0] = error;
            }
            return out[0];
        }).exceptionally(GroupTable::code);
    }

    CompletionStage<LeaveResult> leave(String groupId, List<GroupCoordinator.Leaving> leaving) {
        return table.run(groupId, g -> leave(g, leaving)).exceptionally(t -> new LeaveResult(code(t), List.of()));
    }

    private LeaveResult leave(Group g, List<GroupCoordinator.Leaving> leaving) {
        if (g.dead) return new LeaveResult(ErrorCode.COORDINATOR_NOT_AVAILABLE.code(), List.of());
        if (g.members.isEmpty() && g.pendingMembers.isEmpty()) return new LeaveResult(ErrorCode.UNKNOWN_MEMBER_ID.code(), List.of());
        List<LeaveResult.MemberLeave> results = new ArrayList<>();
        for (GroupCoordinator.Leaving l : leaving) {
            String memberId = l.memberId() == null ? "" : l.memberId();
            short error = ErrorCode.NONE.code();
            if (l.groupInstanceId() != null) {
                String current = g.staticMembers.get(l.groupInstanceId());
                if (current == null) {
                    error = ErrorCode.UNKNOWN_MEMBER_ID.code();
                } else if (!memberId.isEmpty() && !memberId.equals(current)) {
                    error = ErrorCode.FENCED_INSTANCE_ID.code();
                } else {
                    removeMember(g, g.members.get(current));
                }
            } else {
                Timer.Task pending = g.pendingMembers.remove(memberId);
                if (pending != null) {
                    pending.cancel();
                    tryCompleteJoin(g);
                } else if (g.members.containsKey(memberId)) {
                    removeMember(g, g.members.get(memberId));
                } else {
                    error = ErrorCode.UNKNOWN_MEMBER_ID.code();
                }
            }
            results.add(new LeaveResult.MemberLeave(memberId, l.groupInstanceId(), error));
        }
        return new LeaveResult(ErrorCode.NONE.code(), results);
    }

    /** Replaces the in-memory classic group with a stored one; members here are told to rejoin. */
    void restore(Group g, GroupState stored) {
        g.consumer = null;
        GroupCodec.Snapshot snap = GroupCodec.decode(g.groupId, stored.data());
        g.version = stored.version();
        if (snap == null) {
            g.protocolType = stored.protocolType().isEmpty() ? null : stored.protocolType();
            return;
        }
        for (Member m : List.copyOf(g.members.values())) {
            m.cancelExpiry();
            if (m.awaitingJoin != null) reply(g, m.awaitingJoin, JoinResult.error(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS.code(), m.memberId));
            if (m.awaitingSync != null) reply(g, m.awaitingSync, SyncResult.error(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS.code()));
        }
        g.members.clear();
        g.staticMembers.clear();
        if (g.rebalanceTimer != null) g.rebalanceTimer.cancel();
        g.rebalanceTimer = null;
        g.rebalanceToken = null;
        g.generation = snap.generation();
        g.protocolType = snap.protocolType();
        g.protocolName = snap.protocolName();
        g.leaderId = snap.leaderId();
        for (Member m : snap.members()) {
            g.members.put(m.memberId, m);
            if (m.groupInstanceId != null) g.staticMembers.put(m.groupInstanceId, m.memberId);
            scheduleExpiry(g, m);
        }
        GroupPhase phase = GroupPhase.of(stored.state());
        if (g.members.isEmpty()) {
            g.state = GroupPhase.EMPTY;
        } else if (phase == GroupPhase.STABLE) {
            g.state = GroupPhase.STABLE;
        } else {
            // a rebalance was under way where it was stored: start it again here
            g.state = GroupPhase.STABLE;
            prepareRebalance(g);
        }
    }

    /** Topics in a consumer protocol subscription (ConsumerProtocolSubscription, any version: topics come first). */
    static Set<String> subscribedTopics(byte[] metadata) {
        Set<String> topics = new HashSet<>();
        if (metadata == null || metadata.length < 6) return topics;
        try {
            ByteBuffer b = ByteBuffer.wrap(metadata);
            b.getShort(); // version
            int n = b.getInt();
            for (int i = 0; i < n; i++) {
                int len = b.getShort();
                byte[] name = new byte[len];
                b.get(name);
                topics.add(new String(name, StandardCharsets.UTF_8));
            }
        } catch (RuntimeException e) {
            // not a consumer subscription we can read: nothing counts as subscribed
        }
        return topics;
    }
}
