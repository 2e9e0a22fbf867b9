package kiri.coordinator;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.VersionConflictException;

/**
 * Kafka's classic group coordinator (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups,
 * ListGroups, DeleteGroups, OffsetCommit/Fetch/Delete) over the storage SPI.
 *
 * <p>State machine: Empty → PreparingRebalance (a member joins, leaves, expires or changes its
 * protocols) → CompletingRebalance (every known member rejoined, or the rebalance timeout passed; the
 * generation is bumped, the protocol chosen and the join responses sent) → Stable (the leader's
 * SyncGroup delivered every member's assignment). A group whose last member goes is Empty again;
 * a deleted group is Dead. Join and sync responses are futures completed when the rebalance gets
 * there. Session and rebalance timeouts are tasks on the {@link Timer}; nothing polls.
 *
 * <p>Storage: live membership is held here (response futures cannot be stored), and every state change
 * is written behind with {@link Storage#updateGroup} (compare-and-set on the version, one write in
 * flight per group). A group not in memory is loaded from storage, so a restarted broker, or another
 * broker over the same storage, continues a group's generation; when a write loses the
 * compare-and-set to a newer generation written elsewhere, the stored group is adopted and the
 * members here rejoin. Committed offsets go straight to storage.
 *
 * <p>Consumer groups (KIP-848, {@link #consumerHeartbeat}) share the map, the monitors, the timer and
 * the write-behind: a group id holds either a classic group or a {@link ConsumerGroup}, whose epochs,
 * members and assignments are stored as group state of type {@code consumer}.
 *
 * <p>Threading: every method may be called from any thread and never blocks. Each group is guarded
 * by its own monitor; response futures are completed after it is released.
 */
public final class GroupCoordinator implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GroupCoordinator.class.getName());
    private static final String CONSUMER = "consumer";

    private final Storage storage;
    private final CoordinatorConfig config;
    private final Timer timer;
    private final ConcurrentHashMap<String, CompletableFuture<Group>> groups = new ConcurrentHashMap<>();

    public GroupCoordinator(Storage storage, CoordinatorConfig config, Timer timer) {
        this.storage = storage;
        this.config = config;
        this.timer = timer;
    }

    public CoordinatorConfig config() {
        return config;
    }

    // ---- loading and locking ---------------------------------------------------------------------

    private CompletableFuture<Group> group(String groupId) {
        CompletableFuture<Group> existing = groups.get(groupId);
        if (existing != null) return existing;
        CompletableFuture<Group> mine = new CompletableFuture<>();
        existing = groups.putIfAbsent(groupId, mine);
        if (existing != null) return existing;
        storage.group(groupId).whenComplete((stored, failure) -> {
            if (failure != null) {
                groups.remove(groupId, mine);
                mine.completeExceptionally(failure);
                return;
            }
            Group g = new Group(groupId);
            if (stored.isPresent() && stored.get().version() != GroupState.NO_VERSION) {
                locked(g, () -> restore(g, stored.get()));
            }
            mine.complete(g);
        });
        return mine;
    }

    /** Runs {@code body} holding the group's monitor; queued effects run after the outermost release. */
    private void locked(Group g, Runnable body) {
        List<Runnable> effects = null;
        synchronized (g) {
            g.depth++;
            try {
                body.run();
            } finally {
                g.depth--;
                if (g.depth == 0) {
                    if (!g.effects.isEmpty()) {
                        effects = new ArrayList<>(g.effects);
                        g.effects.clear();
                    }
                    if (g.unused()) {
                        CompletableFuture<Group> f = groups.get(g.groupId);
                        if (f != null && f.isDone() && !f.isCompletedExceptionally() && f.getNow(null) == g) {
                            groups.remove(g.groupId, f);
                            g.evicted = true;
                        }
                    }
                }
            }
        }
        if (effects != null) {
            for (Runnable r : effects) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "group " + g.groupId + ": response callback failed", e);
                }
            }
        }
    }

    /**
     * Runs {@code body} on the group holding its monitor; if the entry was evicted meanwhile (it held
     * nothing), looks the group up again so that no change lands on an orphan.
     */
    private <T> CompletableFuture<T> run(String groupId, java.util.function.Function<Group, T> body) {
        return group(groupId).thenCompose(g -> {
            List<T> out = new ArrayList<>(1);
            boolean[] evicted = {false};
            locked(g, () -> {
                if (g.evicted) evicted[0] = true;
                else out.add(body.apply(g));
            });
            return evicted[0] ? run(groupId, body) : CompletableFuture.completedFuture(out.getFirst());
        });
    }

    private static <T> void reply(Group g, CompletableFuture<T> future, T value) {
        g.effects.add(() -> future.complete(value));
    }

    private static short code(Throwable failure) {
        return StorageException.errorCodeOf(failure);
    }

    // ---- JoinGroup -----------------------------------------------------------------------------------

    public CompletionStage<JoinResult> join(JoinRequest r) {
        if (r.groupId().isEmpty()) {
            return CompletableFuture.completedFuture(JoinResult.error(Errors.INVALID_GROUP_ID, r.memberId()));
        }
        if (r.sessionTimeoutMs() < config.minSessionTimeoutMs() || r.sessionTimeoutMs() > config.maxSessionTimeoutMs()) {
            return CompletableFuture.completedFuture(JoinResult.error(Errors.INVALID_SESSION_TIMEOUT, r.memberId()));
        }
        if (r.protocolType().isEmpty() || r.protocols().isEmpty()) {
            return CompletableFuture.completedFuture(JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, r.memberId()));
        }
        return run(r.groupId(), g -> {
            CompletableFuture<JoinResult> out = new CompletableFuture<>();
            join(g, r, out);
            return out;
        }).thenCompose(f -> f).exceptionally(t -> JoinResult.error(code(t), r.memberId()));
    }

    private void join(Group g, JoinRequest r, CompletableFuture<JoinResult> out) {
        if (g.dead) {
            reply(g, out, JoinResult.error(Errors.COORDINATOR_NOT_AVAILABLE, r.memberId()));
            return;
        }
        if (g.consumer != null) {
            if (!g.consumer.members.isEmpty()) {
                // classic members do not join a consumer group (Kafka's migration of members is not supported)
                reply(g, out, JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, r.memberId()));
                return;
            }
            g.consumer = null; // an empty consumer group becomes a classic one, as in Kafka
        }
        if (!g.supports(r.protocolType(), r.protocols())) {
            reply(g, out, JoinResult.error(Errors.INCONSISTENT_GROUP_PROTOCOL, r.memberId()));
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
                g.pendingMembers.put(newId, timer.schedule(r.sessionTimeoutMs(), () -> locked(g, () -> {
                    if (g.pendingMembers.remove(newId) != null) tryCompleteJoin(g);
                })));
                reply(g, out, JoinResult.error(Errors.MEMBER_ID_REQUIRED, newId));
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
                reply(g, out, JoinResult.error(Errors.FENCED_INSTANCE_ID, memberId));
                return;
            }
        }
        if (m == null) {
            reply(g, out, JoinResult.error(Errors.UNKNOWN_MEMBER_ID, memberId));
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
            case EMPTY, DEAD -> reply(g, out, JoinResult.error(Errors.UNKNOWN_MEMBER_ID, memberId));
        }
    }

    private static void awaitJoin(Group g, Member m, CompletableFuture<JoinResult> out) {
        if (m.awaitingJoin != null && m.awaitingJoin != out) {
            reply(g, m.awaitingJoin, JoinResult.error(Errors.REBALANCE_IN_PROGRESS, m.memberId)); // superseded by a newer join
        }
        m.awaitingJoin = out;
    }

    private static JoinResult currentGeneration(Group g, Member m, boolean skipAssignment) {
        boolean leader = m.memberId.equals(g.leaderId);
        return new JoinResult(Errors.NONE, g.generation, g.protocolType, g.protocolName, g.leaderId, skipAssignment && leader,
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
        markDirty(g);
    }

    /** A static member came back with a new member id: it takes over the old one's place (fencing it). */
    private void replaceStaticMember(Group g, JoinRequest r, Member old, String newId, CompletableFuture<JoinResult> out) {
        Member m = Member.of(newId, r);
        m.assignment = old.assignment;
        old.cancelExpiry();
        if (old.awaitingJoin != null) reply(g, old.awaitingJoin, JoinResult.error(Errors.FENCED_INSTANCE_ID, old.memberId));
        if (old.awaitingSync != null) reply(g, old.awaitingSync, SyncResult.error(Errors.FENCED_INSTANCE_ID));
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
                && (CONSUMER.equals(g.protocolType)
                        ? subscribedTopics(old.metadata(g.protocolName)).equals(subscribedTopics(m.metadata(g.protocolName)))
                        : java.util.Arrays.equals(old.metadata(g.protocolName), m.metadata(g.protocolName)));
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
        markDirty(g);
    }

    private void prepareRebalance(Group g) {
        if (g.state == GroupPhase.COMPLETING_REBALANCE) {
            for (Member m : g.members.values()) {
                m.assignment = Member.EMPTY;
                if (m.awaitingSync != null) {
                    reply(g, m.awaitingSync, SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
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
        markDirty(g);
        tryCompleteJoin(g);
    }

    private void startRebalanceTimer(Group g, long delayMs) {
        if (g.rebalanceTimer != null) g.rebalanceTimer.cancel();
        Object token = new Object();
        g.rebalanceToken = token;
        g.rebalanceTimer = timer.schedule(delayMs, () -> locked(g, () -> {
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
            markDirty(g);
            return;
        }
        g.protocolName = g.selectProtocol();
        if (g.leaderId == null || !g.members.containsKey(g.leaderId)) g.leaderId = g.members.keySet().iterator().next();
        g.state = GroupPhase.COMPLETING_REBALANCE;
        List<JoinResult.JoinedMember> all = g.joinedMembers();
        for (Member m : g.members.values()) {
            boolean leader = m.memberId.equals(g.leaderId);
            reply(g, m.awaitingJoin, new JoinResult(Errors.NONE, g.generation, g.protocolType, g.protocolName,
                    g.leaderId, false, m.memberId, leader ? all : List.of()));
            m.awaitingJoin = null;
            scheduleExpiry(g, m);
        }
        markDirty(g);
    }

    /** Removes a member without triggering anything (the caller decides what the group does next). */
    private static void dropMember(Group g, Member m) {
        g.members.remove(m.memberId);
        if (m.groupInstanceId != null && m.memberId.equals(g.staticMembers.get(m.groupInstanceId))) {
            g.staticMembers.remove(m.groupInstanceId);
        }
        m.cancelExpiry();
        if (m.awaitingJoin != null) reply(g, m.awaitingJoin, JoinResult.error(Errors.UNKNOWN_MEMBER_ID, m.memberId));
        if (m.awaitingSync != null) reply(g, m.awaitingSync, SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
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
        markDirty(g);
    }

    private void scheduleExpiry(Group g, Member m) {
        m.cancelExpiry();
        m.expiry = timer.schedule(m.sessionTimeoutMs, () -> locked(g, () -> {
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

    // ---- ConsumerGroupHeartbeat, ConsumerGroupDescribe (KIP-848) ---------------------------------------

    /**
     * ConsumerGroupHeartbeat: joins (member epoch 0), heartbeats, and leaves (-1) a consumer group; the
     * answer carries the member's epoch and, when it changed, its assignment. A static member
     * (group.instance.id) leaves with -2 keeping its assignment, and a new member with the same
     * instance id takes it over without a rebalance.
     */
    public CompletionStage<ConsumerHeartbeatResult> consumerHeartbeat(ConsumerHeartbeat r) {
        String memberId = r.memberId() == null ? "" : r.memberId();
        String invalid = invalidHeartbeat(r, memberId);
        if (invalid != null) {
            return CompletableFuture.completedFuture(ConsumerHeartbeatResult.error(Errors.INVALID_REQUEST, invalid, memberId));
        }
        if (r.serverAssignor() != null && !Assignors.NAMES.contains(r.serverAssignor())) {
            return CompletableFuture.completedFuture(ConsumerHeartbeatResult.error(Errors.UNSUPPORTED_ASSIGNOR,
                    "ServerAssignor " + r.serverAssignor() + " is not supported. Supported assignors: "
                            + String.join(", ", Assignors.NAMES) + ".", memberId));
        }
        if (r.subscribedTopicRegex() != null && !r.subscribedTopicRegex().isEmpty()) {
            try {
                java.util.regex.Pattern.compile(r.subscribedTopicRegex());
            } catch (java.util.regex.PatternSyntaxException e) {
                return CompletableFuture.completedFuture(ConsumerHeartbeatResult.error(Errors.INVALID_REGULAR_EXPRESSION,
                        "SubscribedTopicRegex " + r.subscribedTopicRegex() + " is not a valid regular expression: "
                                + e.getDescription(), memberId));
            }
        }
        // v0 lets the coordinator name a joining member
        String id = memberId.isEmpty() ? UUID.randomUUID().toString() : memberId;
        return topicsSnapshot().thenCompose(topics -> run(r.groupId(), g -> consumerHeartbeat(g, r, id, topics)))
                .exceptionally(t -> ConsumerHeartbeatResult.error(code(t), null, id));
    }

    private static String invalidHeartbeat(ConsumerHeartbeat r, String memberId) {
        if (r.groupId() == null || r.groupId().isEmpty()) return "GroupId can't be empty.";
        if (r.memberEpoch() < -2) return "MemberEpoch is invalid.";
        if (r.instanceId() != null && r.instanceId().isEmpty()) return "InstanceId can't be empty.";
        if (memberId.isEmpty() && (r.apiVersion() >= 1 || r.memberEpoch() != 0)) return "MemberId can't be empty.";
        if (r.memberEpoch() == 0) {
            if (r.rebalanceTimeoutMs() == -1) return "RebalanceTimeoutMs must be provided in first request.";
            if (r.ownedTopicPartitions() != null && !r.ownedTopicPartitions().isEmpty()) {
                return "TopicPartitions must be empty when (re-)joining.";
            }
            if (r.subscribedTopicNames() == null && r.subscribedTopicRegex() == null) {
                return "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.";
            }
        }
        return null;
    }

    /** Every topic's id and partition count, as the assignors need them. */
    private CompletionStage<Map<String, Assignors.TopicMeta>> topicsSnapshot() {
        return storage.listTopics().thenApply(list -> {
            Map<String, Assignors.TopicMeta> out = new java.util.HashMap<>();
            for (var t : list) out.put(t.name(), new Assignors.TopicMeta(t.id(), t.partitionCount()));
            return out;
        });
    }

    private ConsumerHeartbeatResult consumerHeartbeat(Group g, ConsumerHeartbeat r, String memberId,
                                                      Map<String, Assignors.TopicMeta> topics) {
        ConsumerGroup before = g.consumer;
        int epoch = before == null ? -1 : before.groupEpoch;
        String state = before == null ? "" : before.state();
        Object member = before == null ? null : stored(before.members.get(memberId));
        ConsumerHeartbeatResult result = consumerHeartbeatLocked(g, r, memberId, topics);
        ConsumerGroup after = g.consumer;
        if (after != null && (after != before || after.groupEpoch != epoch || !after.state().equals(state)
                || !java.util.Objects.equals(member, stored(after.members.get(memberId))))) {
            markDirty(g); // write-behind, as for classic groups
        }
        return result;
    }

    /** What is stored of a member, to tell whether a heartbeat changed it. */
    private static Object stored(ConsumerMember m) {
        if (m == null) return null;
        return List.of(m.memberEpoch, m.previousMemberEpoch, m.state, m.assigned, m.pendingRevocation,
                m.subscribedTopicNames, String.valueOf(m.subscribedTopicRegex), String.valueOf(m.serverAssignor),
                m.rebalanceTimeoutMs, m.clientId, m.clientHost, String.valueOf(m.instanceId), String.valueOf(m.rackId));
    }

    private ConsumerHeartbeatResult consumerHeartbeatLocked(Group g, ConsumerHeartbeat r, String memberId,
                                                            Map<String, Assignors.TopicMeta> topics) {
        if (g.dead) return ConsumerHeartbeatResult.error(Errors.COORDINATOR_NOT_AVAILABLE, null, memberId);
        if (g.consumer == null) {
            if (!g.members.isEmpty() || !g.pendingMembers.isEmpty() || g.state != GroupPhase.EMPTY) {
                return ConsumerHeartbeatResult.error(Errors.GROUP_ID_NOT_FOUND,
                        "Group " + g.groupId + " is not a consumer group.", memberId);
            }
            if (r.memberEpoch() != 0) {
                // a member of a group this coordinator does not hold (e.g. after a restart): it rejoins
                return ConsumerHeartbeatResult.error(Errors.UNKNOWN_MEMBER_ID,
                        "Member " + memberId + " is not a member of group " + g.groupId + ".", memberId);
            }
            g.consumer = new ConsumerGroup(); // a new group, or an empty classic one converted as Kafka does
            g.protocolType = CONSUMER;
        }
        ConsumerGroup cg = g.consumer;
        cg.topics = topics;
        ConsumerMember m = cg.members.get(memberId);
        ConsumerMember holder = r.instanceId() == null ? null : cg.staticMember(r.instanceId());
        if (holder != null && holder != m && r.memberEpoch() != 0) {
            return ConsumerHeartbeatResult.error(Errors.FENCED_INSTANCE_ID, "Static member " + memberId
                    + " with instance id " + r.instanceId() + " was replaced by member " + holder.memberId + ".", memberId);
        }
        if (r.memberEpoch() < 0) {
            if (m == null) {
                return ConsumerHeartbeatResult.error(Errors.UNKNOWN_MEMBER_ID,
                        "Member " + memberId + " is not a member of group " + g.groupId + ".", memberId);
            }
            if (r.memberEpoch() == -2) {
                if (m.instanceId == null && r.instanceId() == null) {
                    return ConsumerHeartbeatResult.error(Errors.INVALID_REQUEST, "InstanceId can't be null.", memberId);
                }
                // a static member leaving for a while: it keeps its partitions until it comes back or expires
                LOG.log(Level.DEBUG, "group {0}: static member {1} left temporarily", g.groupId, memberId);
                if (m.revocationTimeout != null) m.revocationTimeout.cancel();
                m.revocationTimeout = null;
                if (m.memberEpoch != -2) m.previousMemberEpoch = m.memberEpoch;
                m.memberEpoch = -2;
                scheduleConsumerExpiry(g, m);
                return new ConsumerHeartbeatResult(Errors.NONE, null, memberId, -2, 0, null);
            }
            LOG.log(Level.DEBUG, "group {0}: member {1} left", g.groupId, memberId);
            cg.remove(m);
            return new ConsumerHeartbeatResult(Errors.NONE, null, memberId, r.memberEpoch(), 0, null);
        }
        Assignment owned = r.ownedTopicPartitions() == null ? null : Assignment.of(r.ownedTopicPartitions());
        boolean changed = false;
        if (r.memberEpoch() == 0) {
            if (m == null && holder != null) {
                if (holder.memberEpoch != -2) {
                    return ConsumerHeartbeatResult.error(Errors.UNRELEASED_INSTANCE_ID, "Static member " + memberId
                            + " with instance id " + r.instanceId() + " cannot join the group because the instance id is"
                            + " owned by member " + holder.memberId + ".", memberId);
                }
                // the instance is back (with a new member id): it takes over the old member's assignment, no rebalance
                m = cg.replaceStaticMember(holder, memberId); // a changed subscription is noticed below
            } else if (m == null) {
                m = new ConsumerMember(memberId);
                m.instanceId = r.instanceId();
                cg.members.put(memberId, m);
                changed = true;
            } else {
                // rejoining (after being fenced): the member has given up everything it owned
                if (m.revocationTimeout != null) m.revocationTimeout.cancel();
                m.revocationTimeout = null;
                m.assigned = Assignment.EMPTY;
                m.pendingRevocation = Assignment.EMPTY;
                m.state = ConsumerMember.State.STABLE;
                m.memberEpoch = 0;
                m.previousMemberEpoch = -1;
                m.lastSent = null;
            }
        } else {
            if (m == null) {
                return ConsumerHeartbeatResult.error(Errors.UNKNOWN_MEMBER_ID,
                        "Member " + memberId + " is not a member of group " + g.groupId + ".", memberId);
            }
            int epoch = r.memberEpoch();
            // one epoch behind is accepted if what it owns is still its own (its previous response was lost)
            if (epoch > m.memberEpoch || (epoch < m.memberEpoch && (epoch != m.previousMemberEpoch || owned == null
                    || !owned.subsetOf(m.assigned)))) {
                return ConsumerHeartbeatResult.error(Errors.FENCED_MEMBER_EPOCH, "The consumer group member has a "
                        + (epoch > m.memberEpoch ? "greater" : "smaller") + " member epoch (" + epoch
                        + ") than the one known by the group coordinator (" + m.memberEpoch
                        + "). The member must abandon all its partitions and rejoin.", memberId);
            }
        }
        m.clientId = r.clientId() == null ? "" : r.clientId();
        m.clientHost = r.clientHost() == null ? "" : r.clientHost();
        if (r.rebalanceTimeoutMs() != -1) m.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        if (r.rackId() != null) m.rackId = r.rackId().isEmpty() ? null : r.rackId();
        if (r.subscribedTopicNames() != null && !r.subscribedTopicNames().equals(m.subscribedTopicNames)) {
            m.subscribedTopicNames = List.copyOf(r.subscribedTopicNames());
            changed = true;
        }
        if (r.subscribedTopicRegex() != null) {
            String regex = r.subscribedTopicRegex().isEmpty() ? null : r.subscribedTopicRegex();
            if (!java.util.Objects.equals(regex, m.subscribedTopicRegex)) {
                m.subscribedTopicRegex = regex;
                changed = true;
            }
        }
        if (r.serverAssignor() != null) m.serverAssignor = r.serverAssignor();
        cg.update(changed);
        cg.reconcile(m, owned);
        if (m.state == ConsumerMember.State.UNREVOKED_PARTITIONS) {
            if (m.revocationTimeout == null) scheduleRevocationTimeout(g, m);
        } else if (m.revocationTimeout != null) {
            m.revocationTimeout.cancel();
            m.revocationTimeout = null;
        }
        scheduleConsumerExpiry(g, m);
        Map<UUID, List<Integer>> assignment = null;
        if (r.memberEpoch() == 0 || owned != null || !m.assigned.equals(m.lastSent)) {
            assignment = m.assigned.toLists();
            m.lastSent = m.assigned;
        }
        return new ConsumerHeartbeatResult(Errors.NONE, null, memberId, m.memberEpoch, config.consumerHeartbeatIntervalMs(),
                assignment);
    }

    private void scheduleConsumerExpiry(Group g, ConsumerMember m) {
        if (m.expiry != null) m.expiry.cancel();
        m.expiry = timer.schedule(config.consumerSessionTimeoutMs(), () -> locked(g, () -> {
            if (g.consumer == null || g.consumer.members.get(m.memberId) != m) return;
            LOG.log(Level.INFO, "group {0}: member {1} expired after {2} ms without a heartbeat",
                    g.groupId, m.memberId, config.consumerSessionTimeoutMs());
            g.consumer.remove(m);
            markDirty(g);
        }));
    }

    /** A member that does not revoke within its rebalance timeout is removed (its partitions go to others). */
    private void scheduleRevocationTimeout(Group g, ConsumerMember m) {
        int epoch = m.memberEpoch;
        m.revocationTimeout = timer.schedule(Math.max(1, m.rebalanceTimeoutMs), () -> locked(g, () -> {
            if (g.consumer == null || g.consumer.members.get(m.memberId) != m) return;
            if (m.state != ConsumerMember.State.UNREVOKED_PARTITIONS || m.memberEpoch != epoch) return;
            LOG.log(Level.INFO, "group {0}: member {1} did not revoke {2} within {3} ms; removed",
                    g.groupId, m.memberId, m.pendingRevocation, m.rebalanceTimeoutMs);
            g.consumer.remove(m);
            markDirty(g);
        }));
    }

    /** ConsumerGroupDescribe for one group: GROUP_ID_NOT_FOUND unless it is a consumer group. */
    public CompletionStage<ConsumerGroupDescription> describeConsumerGroup(String groupId) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new ConsumerGroupDescription(Errors.INVALID_GROUP_ID, null,
                    groupId == null ? "" : groupId, "Dead", -1, -1, "", List.of(), Map.of()));
        }
        return run(groupId, g -> {
            ConsumerGroup cg = g.consumer;
            if (g.dead || cg == null) {
                boolean exists = !g.dead && (g.hasMembers() || g.state != GroupPhase.EMPTY || g.version != GroupState.NO_VERSION);
                return new ConsumerGroupDescription(Errors.GROUP_ID_NOT_FOUND,
                        exists ? "Group " + groupId + " is not a consumer group." : "Group " + groupId + " not found.",
                        groupId, "Dead", -1, -1, "", List.of(), Map.of());
            }
            List<ConsumerGroupDescription.Member> members = new ArrayList<>();
            for (ConsumerMember m : cg.members.values()) {
                members.add(new ConsumerGroupDescription.Member(m.memberId, m.instanceId, m.rackId, m.memberEpoch,
                        m.clientId, m.clientHost, m.subscribedTopicNames, m.subscribedTopicRegex, m.assigned.toLists(),
                        cg.target.getOrDefault(m.memberId, Assignment.EMPTY).toLists()));
            }
            return new ConsumerGroupDescription(Errors.NONE, null, groupId, cg.state(), cg.groupEpoch, cg.assignmentEpoch,
                    cg.assignor, members, cg.topicNames());
        }).exceptionally(t -> new ConsumerGroupDescription(code(t), null, groupId, "Dead", -1, -1, "", List.of(), Map.of()));
    }

    /**
     * OffsetFetch v9+ from a member of a consumer group: UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH when the
     * member or its epoch is not the current one; NONE otherwise (and for anyone else, as admin tools fetch).
     */
    public CompletionStage<Short> validateOffsetFetch(String groupId, String memberId, int memberEpoch) {
        boolean fromMember = memberEpoch >= 0 || (memberId != null && !memberId.isEmpty());
        if (!fromMember || groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(Errors.NONE);
        return run(groupId, g -> {
            if (g.consumer == null) return Errors.NONE;
            ConsumerMember m = g.consumer.members.get(memberId == null ? "" : memberId);
            if (m == null) return Errors.UNKNOWN_MEMBER_ID;
            return m.memberEpoch == memberEpoch ? Errors.NONE : Errors.STALE_MEMBER_EPOCH;
        }).exceptionally(GroupCoordinator::code);
    }

    /** Test hook: the group's epoch and each member's epoch, state and assignment, as text. */
    String consumerGroupState(String groupId) {
        return run(groupId, g -> {
            ConsumerGroup cg = g.consumer;
            if (cg == null) return "none";
            StringBuilder b = new StringBuilder("epoch=" + cg.groupEpoch + " " + cg.state());
            for (ConsumerMember m : cg.members.values()) {
                b.append(' ').append(m.memberId).append('@').append(m.memberEpoch).append(':').append(m.state)
                        .append(m.assigned).append("-").append(m.pendingRevocation);
            }
            return b.toString();
        }).toCompletableFuture().join();
    }

    // ---- SyncGroup, Heartbeat, LeaveGroup -------------------------------------------------------------

    public CompletionStage<SyncResult> sync(SyncRequest r) {
        return run(r.groupId(), g -> {
            CompletableFuture<SyncResult> out = new CompletableFuture<>();
            sync(g, r, out);
            return out;
        }).thenCompose(f -> f).exceptionally(t -> SyncResult.error(code(t)));
    }

    private void sync(Group g, SyncRequest r, CompletableFuture<SyncResult> out) {
        short error = checkMember(g, r.memberId(), r.groupInstanceId(), r.generationId());
        if (error == Errors.NONE && ((r.protocolType() != null && !r.protocolType().equals(g.protocolType))
                || (r.protocolName() != null && !r.protocolName().equals(g.protocolName)))) {
            error = Errors.INCONSISTENT_GROUP_PROTOCOL;
        }
        if (error != Errors.NONE) {
            reply(g, out, SyncResult.error(error));
            return;
        }
        Member m = g.members.get(r.memberId());
        switch (g.state) {
            case PREPARING_REBALANCE -> reply(g, out, SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
            case STABLE -> {
                scheduleExpiry(g, m);
                reply(g, out, new SyncResult(Errors.NONE, g.protocolType, g.protocolName, m.assignment));
            }
            case COMPLETING_REBALANCE -> {
                if (m.awaitingSync != null && m.awaitingSync != out) {
                    reply(g, m.awaitingSync, SyncResult.error(Errors.REBALANCE_IN_PROGRESS));
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
                                    new SyncResult(Errors.NONE, g.protocolType, g.protocolName, member.assignment));
                            member.awaitingSync = null;
                        }
                    }
                    markDirty(g);
                }
            }
            default -> reply(g, out, SyncResult.error(Errors.UNKNOWN_MEMBER_ID));
        }
    }

    /** The checks SyncGroup, Heartbeat and member commits share. */
    private static short checkMember(Group g, String memberId, String instanceId, int generation) {
        if (g.dead) return Errors.COORDINATOR_NOT_AVAILABLE;
        if (instanceId != null) {
            String current = g.staticMembers.get(instanceId);
            if (current != null && !current.equals(memberId)) return Errors.FENCED_INSTANCE_ID;
        }
        if (!g.members.containsKey(memberId)) return Errors.UNKNOWN_MEMBER_ID;
        if (generation != g.generation) return Errors.ILLEGAL_GENERATION;
        return Errors.NONE;
    }

    /** Heartbeat: NONE, REBALANCE_IN_PROGRESS (rejoin), ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. */
    public CompletionStage<Short> heartbeat(String groupId, String memberId, String groupInstanceId, int generationId) {
        return run(groupId, g -> {
            short[] out = new short[1];
            {
                short error = checkMember(g, memberId, groupInstanceId, generationId);
                if (error == Errors.NONE) {
                    switch (g.state) {
                        case EMPTY, DEAD -> error = Errors.UNKNOWN_MEMBER_ID;
                        case PREPARING_REBALANCE -> {
                            scheduleExpiry(g, g.members.get(memberId));
                            error = Errors.REBALANCE_IN_PROGRESS;
                        }
                        default -> scheduleExpiry(g, g.members.get(memberId));
                    }
                }
                out[0] = error;
            }
            return out[0];
        }).exceptionally(GroupCoordinator::code);
    }

    /** One member to remove (LeaveGroup): by member id, or by group.instance.id for static members. */
    public record Leaving(String memberId, String groupInstanceId) {
    }

    public CompletionStage<LeaveResult> leave(String groupId, List<Leaving> leaving) {
        return run(groupId, g -> leave(g, leaving)).exceptionally(t -> new LeaveResult(code(t), List.of()));
    }

    private LeaveResult leave(Group g, List<Leaving> leaving) {
        if (g.dead) return new LeaveResult(Errors.COORDINATOR_NOT_AVAILABLE, List.of());
        if (g.members.isEmpty() && g.pendingMembers.isEmpty()) return new LeaveResult(Errors.UNKNOWN_MEMBER_ID, List.of());
        List<LeaveResult.MemberLeave> results = new ArrayList<>();
        for (Leaving l : leaving) {
            String memberId = l.memberId() == null ? "" : l.memberId();
            short error = Errors.NONE;
            if (l.groupInstanceId() != null) {
                String current = g.staticMembers.get(l.groupInstanceId());
                if (current == null) {
                    error = Errors.UNKNOWN_MEMBER_ID;
                } else if (!memberId.isEmpty() && !memberId.equals(current)) {
                    error = Errors.FENCED_INSTANCE_ID;
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
                    error = Errors.UNKNOWN_MEMBER_ID;
                }
            }
            results.add(new LeaveResult.MemberLeave(memberId, l.groupInstanceId(), error));
        }
        return new LeaveResult(Errors.NONE, results);
    }

    // ---- DescribeGroups, ListGroups, DeleteGroups -----------------------------------------------------

    public CompletionStage<GroupDescription> describe(String groupId) {
        return group(groupId).thenCompose(g -> {
            GroupDescription[] live = new GroupDescription[1];
            locked(g, () -> {
                if (!g.dead && g.consumer != null) live[0] = notFound(g.groupId); // not a classic group, as Kafka answers
                else if (!g.dead && (g.hasMembers() || g.state != GroupPhase.EMPTY)) live[0] = describe(g);
            });
            if (live[0] != null) return CompletableFuture.completedFuture(live[0]);
            return storage.group(groupId).thenApply(stored -> stored
                    .map(s -> new GroupDescription(Errors.NONE, groupId, GroupPhase.EMPTY.kafkaName, s.protocolType(), "",
                            List.of()))
                    .orElseGet(() -> notFound(groupId)));
        }).exceptionally(t -> new GroupDescription(code(t), groupId, GroupPhase.DEAD.kafkaName, "", "", List.of()));
    }

    private static GroupDescription notFound(String groupId) {
        return new GroupDescription(Errors.GROUP_ID_NOT_FOUND, groupId, GroupPhase.DEAD.kafkaName, "", "", List.of());
    }

    private static GroupDescription describe(Group g) {
        boolean stable = g.state == GroupPhase.STABLE;
        List<GroupDescription.MemberDescription> members = new ArrayList<>();
        for (Member m : g.members.values()) {
            members.add(new GroupDescription.MemberDescription(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    stable ? m.metadata(g.protocolName) : Member.EMPTY, stable ? m.assignment : Member.EMPTY));
        }
        return new GroupDescription(Errors.NONE, g.groupId, g.state.kafkaName, g.protocolType == null ? "" : g.protocolType,
                stable && g.protocolName != null ? g.protocolName : "", members);
    }

    /**
     * ListGroups: stored groups, with the live state of those this coordinator runs.
     *
     * @param states state names to keep (case-insensitive); empty keeps all
     * @param types  group types to keep (case-insensitive); empty keeps all
     */
    public CompletionStage<List<GroupListing>> list(Collection<String> states, Collection<String> types) {
        return storage.listGroups().thenApply(stored -> {
            TreeMap<String, GroupListing> all = new TreeMap<>();
            for (GroupListing l : stored) all.put(l.groupId(), l);
            for (CompletableFuture<Group> f : groups.values()) {
                if (!f.isDone() || f.isCompletedExceptionally()) continue; // still loading, or failed to
                Group g = f.join();
                synchronized (g) {
                    if (g.dead) {
                        all.remove(g.groupId);
                    } else if (g.consumer != null) {
                        all.put(g.groupId, new GroupListing(g.groupId, CONSUMER, CONSUMER, g.consumer.state()));
                    } else if (g.hasMembers() || g.state != GroupPhase.EMPTY || g.version != GroupState.NO_VERSION) {
                        all.put(g.groupId, new GroupListing(g.groupId, "classic", g.protocolType == null ? "" : g.protocolType,
                                g.state.kafkaName));
                    }
                }
            }
            Set<String> s = lower(states);
            Set<String> t = lower(types);
            List<GroupListing> out = new ArrayList<>();
            for (GroupListing l : all.values()) {
                if ((s.isEmpty() || s.contains(l.state().toLowerCase(Locale.ROOT)))
                        && (t.isEmpty() || t.contains(l.type().toLowerCase(Locale.ROOT)))) {
                    out.add(l);
                }
            }
            return out;
        });
    }

    private static Set<String> lower(Collection<String> values) {
        Set<String> out = new HashSet<>();
        if (values != null) for (String v : values) out.add(v.toLowerCase(Locale.ROOT));
        return out;
    }

    /** DeleteGroups for one group: NONE, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, INVALID_GROUP_ID. */
    public CompletionStage<Short> delete(String groupId) {
        if (groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(Errors.INVALID_GROUP_ID);
        return group(groupId).thenCompose(g -> {
            short[] early = {Errors.NONE};
            List<CompletableFuture<Void>> flushed = new ArrayList<>(1);
            locked(g, () -> {
                if (g.dead) early[0] = Errors.GROUP_ID_NOT_FOUND;
                else if (g.hasMembers() || g.state != GroupPhase.EMPTY) early[0] = Errors.NON_EMPTY_GROUP;
                else flushed.add(flushed(g));
            });
            if (early[0] != Errors.NONE) return CompletableFuture.completedFuture(early[0]);
            return flushed.getFirst().thenCompose(v -> storage.deleteGroup(groupId)).handle((v, failure) -> {
                if (failure != null) return code(failure);
                locked(g, () -> {
                    if (!g.hasMembers() && g.state == GroupPhase.EMPTY) {
                        g.dead = true;
                        g.state = GroupPhase.DEAD;
                        for (Timer.Task t : g.pendingMembers.values()) t.cancel();
                        g.pendingMembers.clear();
                        groups.computeIfPresent(groupId, (k, f) -> f.getNow(null) == g ? null : f);
                    } else {
                        g.version = GroupState.NO_VERSION; // members came meanwhile: store the group afresh
                        markDirty(g);
                    }
                });
                return Errors.NONE;
            });
        }).exceptionally(GroupCoordinator::code);
    }

    // ---- offsets -----------------------------------------------------------------------------------

    /**
     * OffsetCommit: checks the member and generation as Kafka does (generation -1 and no member id: only
     * while the group has no members, as admin tools and {@code assign()} consumers commit), then stores.
     *
     * @param apiVersion the OffsetCommit version (v9+ answers GROUP_ID_NOT_FOUND for a missing group)
     * @param retentionMs the request's retention time (v2-v4), or -1 for the broker default
     * @return an error code per partition, in request order
     */
    public CompletionStage<Map<TopicPartition, Short>> commitOffsets(String groupId, String memberId, String groupInstanceId,
                                                                     int generationId, List<OffsetCommit> offsets,
                                                                     int apiVersion, long retentionMs) {
        if (groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(all(offsets, Errors.INVALID_GROUP_ID));
        String member = memberId == null ? "" : memberId;
        return run(groupId, g -> {
            short error = validateCommit(g, member, groupInstanceId, generationId, false, apiVersion);
            if (error == Errors.NONE && g.state == GroupPhase.STABLE && g.members.containsKey(member)) {
                scheduleExpiry(g, g.members.get(member)); // a commit is as good as a heartbeat
            }
            return error;
        }).thenCompose(error -> {
            if (error != Errors.NONE) return CompletableFuture.completedFuture(all(offsets, error));
            return store(groupId, offsets, retentionMs, (id, list) -> storage.commitOffsets(id, list));
        }).exceptionally(t -> all(offsets, code(t)));
    }

    /**
     * TxnOffsetCommit: the same member checks (no group or generation -1 is accepted, as producers
     * that are not consumers commit so), then the offsets are held by the transaction.
     */
    public CompletionStage<Map<TopicPartition, Short>> txnCommitOffsets(String transactionalId,
                                                                        kiri.storage.api.ProducerIdAndEpoch producer,
                                                                        String groupId, String memberId,
                                                                        String groupInstanceId, int generationId,
                                                                        List<OffsetCommit> offsets) {
        if (groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(all(offsets, Errors.INVALID_GROUP_ID));
        String member = memberId == null ? "" : memberId;
        return run(groupId, g -> validateCommit(g, member, groupInstanceId, generationId, true, 0)).thenCompose(error -> {
            if (error != Errors.NONE) return CompletableFuture.completedFuture(all(offsets, error));
            return store(groupId, offsets, -1L,
                    (id, list) -> storage.txnOffsetCommit(transactionalId, producer, id, list));
        }).exceptionally(t -> all(offsets, code(t)));
    }

    private interface OffsetWriter {
        CompletionStage<Void> write(String groupId, List<OffsetCommit> offsets);
    }

    private CompletionStage<Map<TopicPartition, Short>> store(String groupId, List<OffsetCommit> offsets, long retentionMs,
                                                              OffsetWriter writer) {
        long now = timer.nowMs();
        long expireAt = now + (retentionMs > 0 ? retentionMs : config.offsetsRetentionMs());
        Map<TopicPartition, Short> result = new LinkedHashMap<>();
        List<OffsetCommit> ok = new ArrayList<>();
        for (OffsetCommit c : offsets) {
            if (c.metadata() != null && c.metadata().getBytes(StandardCharsets.UTF_8).length > config.offsetMetadataMaxBytes()) {
                result.put(c.partition(), Errors.OFFSET_METADATA_TOO_LARGE);
            } else {
                result.put(c.partition(), Errors.NONE);
                ok.add(new OffsetCommit(c.partition(), c.offset(), c.leaderEpoch(), c.metadata(),
                        c.expireAtMs() != -1L ? c.expireAtMs() : expireAt));
            }
        }
        if (ok.isEmpty()) return CompletableFuture.completedFuture(result);
        return writer.write(groupId, ok).handle((v, failure) -> {
            if (failure != null) {
                short code = code(failure);
                for (OffsetCommit c : ok) result.put(c.partition(), code);
            }
            return result;
        });
    }

    private static Map<TopicPartition, Short> all(List<OffsetCommit> offsets, short error) {
        Map<TopicPartition, Short> out = new LinkedHashMap<>();
        for (OffsetCommit c : offsets) out.put(c.partition(), error);
        return out;
    }

    private static short validateCommit(Group g, String memberId, String instanceId, int generation, boolean txn,
                                        int apiVersion) {
        if (g.dead) return Errors.COORDINATOR_NOT_AVAILABLE;
        if (g.consumer != null) {
            // a consumer group: generationIdOrMemberEpoch is the member epoch (Kafka's ConsumerGroup.validateOffsetCommit)
            ConsumerGroup cg = g.consumer;
            if (generation < 0 && cg.members.isEmpty()) return Errors.NONE;
            if (txn && generation < 0 && memberId.isEmpty() && instanceId == null) return Errors.NONE;
            ConsumerMember m = cg.members.get(memberId);
            if (m == null) return Errors.UNKNOWN_MEMBER_ID;
            if (!txn && apiVersion < 9) return Errors.UNSUPPORTED_VERSION;
            return generation == m.memberEpoch ? Errors.NONE : Errors.STALE_MEMBER_EPOCH;
        }
        boolean empty = g.state == GroupPhase.EMPTY && !g.hasMembers();
        if (generation < 0 && empty) return Errors.NONE; // admin tools, assign() consumers
        if (empty && generation >= 0 && g.version == GroupState.NO_VERSION) {
            if (txn) return Errors.NONE;
            return apiVersion >= 9 ? Errors.GROUP_ID_NOT_FOUND : Errors.ILLEGAL_GENERATION;
        }
        if (generation >= 0 || !memberId.isEmpty() || instanceId != null) {
            short error = checkMember(g, memberId, instanceId, generation);
            if (error != Errors.NONE) return error;
        } else if (!txn && !empty) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (!txn && g.state == GroupPhase.COMPLETING_REBALANCE) return Errors.REBALANCE_IN_PROGRESS;
        return Errors.NONE;
    }

    /**
     * OffsetFetch: committed offsets of {@code partitions} (null: all of the group's). Partitions without
     * one are left out; fails UNSTABLE_OFFSET_COMMIT when {@code requireStable} and a transaction holds
     * pending offsets for them.
     */
    public CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId,
                                                                              Collection<TopicPartition> partitions,
                                                                              boolean requireStable) {
        return storage.fetchOffsets(groupId, partitions, requireStable);
    }

    /** OffsetDelete: refuses partitions of topics the group is consuming (GROUP_SUBSCRIBED_TO_TOPIC). */
    public CompletionStage<OffsetDeleteResult> deleteOffsets(String groupId, List<TopicPartition> partitions) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new OffsetDeleteResult(Errors.INVALID_GROUP_ID, Map.of()));
        }
        return group(groupId).thenCompose(g -> {
            short[] error = {Errors.NONE};
            Set<String> subscribed = new HashSet<>();
            locked(g, () -> {
                if (g.dead) {
                    error[0] = Errors.GROUP_ID_NOT_FOUND;
                } else if (g.consumer != null) {
                    for (ConsumerMember m : g.consumer.members.values()) subscribed.addAll(g.consumer.subscribedTopics(m));
                } else if (g.hasMembers()) {
                    if (CONSUMER.equals(g.protocolType)) {
                        for (Member m : g.members.values()) {
                            String protocol = g.protocolName != null ? g.protocolName
                                    : m.protocols.isEmpty() ? null : m.protocols.getFirst().name();
                            subscribed.addAll(subscribedTopics(m.metadata(protocol)));
                        }
                    } else {
                        error[0] = Errors.NON_EMPTY_GROUP;
                    }
                }
            });
            if (error[0] != Errors.NONE) return CompletableFuture.completedFuture(new OffsetDeleteResult(error[0], Map.of()));
            Map<TopicPartition, Short> result = new LinkedHashMap<>();
            List<TopicPartition> deletable = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                if (subscribed.contains(tp.topic())) {
                    result.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
                } else {
                    result.put(tp, Errors.NONE);
                    deletable.add(tp);
                }
            }
            return storage.deleteOffsets(groupId, deletable).handle((v, failure) -> failure == null
                    ? new OffsetDeleteResult(Errors.NONE, result)
                    : new OffsetDeleteResult(code(failure), Map.of()));
        }).exceptionally(t -> new OffsetDeleteResult(code(t), Map.of()));
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

    // ---- persistence ----------------------------------------------------------------------------------

    /** Completes once every change so far is stored (or the write failed). Call holding the group's monitor. */
    private static CompletableFuture<Void> flushed(Group g) {
        if (!g.writing && !g.dirty) return CompletableFuture.completedFuture(null);
        CompletableFuture<Void> f = new CompletableFuture<>();
        g.flushWaiters.add(f);
        return f;
    }

    /** Test hook: completes once the group's state is stored. */
    CompletableFuture<Void> flushed(String groupId) {
        CompletableFuture<Group> f = groups.get(groupId);
        if (f == null) return CompletableFuture.completedFuture(null);
        return f.thenCompose(g -> {
            synchronized (g) {
                return flushed(g);
            }
        });
    }

    private void markDirty(Group g) {
        if (g.dead) return;
        g.dirty = true;
        if (!g.writing) {
            g.writing = true;
            g.effects.add(() -> locked(g, () -> writeNext(g))); // write once the current change is complete
        }
    }

    private void writeNext(Group g) {
        if (g.dead || !g.dirty) {
            g.writing = false;
            g.dirty = false;
            for (CompletableFuture<Void> f : g.flushWaiters) g.effects.add(() -> f.complete(null));
            g.flushWaiters.clear();
            return;
        }
        g.dirty = false;
        GroupState state = g.consumer != null
                ? new GroupState(g.groupId, CONSUMER, CONSUMER, g.consumer.state(), g.consumer.encode(), g.version)
                : new GroupState(g.groupId, "classic", g.protocolType == null ? "" : g.protocolType,
                        g.state.kafkaName, GroupCodec.encode(g), g.version);
        storage.updateGroup(state).whenComplete((stored, failure) -> locked(g, () -> {
            if (failure == null) {
                g.version = stored.version();
                writeNext(g);
            } else if (StorageException.unwrap(failure) instanceof VersionConflictException) {
                g.dirty = true;
                storage.group(g.groupId).whenComplete((current, f2) -> locked(g, () -> {
                    if (f2 == null) {
                        GroupState s = current.orElse(null);
                        long storedVersion = s == null ? GroupState.NO_VERSION : s.version();
                        GroupCodec.Snapshot snap = s == null || !"classic".equals(s.type()) ? null : GroupCodec.decode(s.data());
                        g.version = storedVersion;
                        if (snap != null && snap.generation() > g.generation) {
                            LOG.log(Level.INFO, "group {0}: generation {1} was stored elsewhere; adopting it",
                                    g.groupId, snap.generation());
                            restore(g, s);
                            g.dirty = false;
                        }
                    }
                    writeNext(g);
                }));
            } else {
                LOG.log(Level.WARNING, "group " + g.groupId + ": storing its state failed", failure);
                writeNext(g);
            }
        }));
    }

    /** Replaces the in-memory group with a stored one; members here are told to rejoin. */
    private void restore(Group g, GroupState stored) {
        if (CONSUMER.equals(stored.type())) {
            // a consumer group: epochs, members and assignments as stored
            ConsumerGroup cg = ConsumerGroup.decode(stored.data());
            if (g.consumer != null) {
                for (ConsumerMember m : g.consumer.members.values()) m.cancelTimers();
            }
            g.consumer = cg != null ? cg : new ConsumerGroup();
            g.protocolType = CONSUMER;
            g.version = stored.version();
            // members continue where they were; each must heartbeat within a session timeout from now
            for (ConsumerMember m : g.consumer.members.values()) {
                scheduleConsumerExpiry(g, m);
                if (m.state == ConsumerMember.State.UNREVOKED_PARTITIONS) scheduleRevocationTimeout(g, m);
            }
            return;
        }
        g.consumer = null;
        GroupCodec.Snapshot snap = GroupCodec.decode(stored.data());
        g.version = stored.version();
        if (snap == null) {
            g.protocolType = stored.protocolType().isEmpty() ? null : stored.protocolType();
            return;
        }
        for (Member m : List.copyOf(g.members.values())) {
            m.cancelExpiry();
            if (m.awaitingJoin != null) reply(g, m.awaitingJoin, JoinResult.error(Errors.COORDINATOR_LOAD_IN_PROGRESS, m.memberId));
            if (m.awaitingSync != null) reply(g, m.awaitingSync, SyncResult.error(Errors.COORDINATOR_LOAD_IN_PROGRESS));
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

    /** Fails nothing and keeps nothing: the timer and storage belong to the caller. */
    @Override
    public void close() {
        groups.clear();
    }
}
