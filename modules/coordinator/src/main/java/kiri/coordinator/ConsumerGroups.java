package kiri.coordinator;

import static kiri.coordinator.Epochs.JOIN_GROUP_MEMBER_EPOCH;
import static kiri.coordinator.Epochs.LEAVE_GROUP_STATIC_MEMBER_EPOCH;
import static kiri.coordinator.Epochs.NO_EPOCH;
import static kiri.coordinator.Epochs.NO_REBALANCE_TIMEOUT;
import static kiri.coordinator.GroupTable.code;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import kiri.protocol.ErrorCode;
import kiri.storage.api.GroupState;
import kiri.storage.api.Storage;

/**
 * KIP-848 consumer groups ({@code group.protocol=consumer}): ConsumerGroupHeartbeat (join, heartbeat,
 * leave, static members' temporary leave), ConsumerGroupDescribe, the member-epoch check of
 * OffsetFetch, and the session and revocation timeouts. The group's epochs, target assignment and
 * reconciliation live in {@link ConsumerGroup}; this class validates requests, applies them and
 * marks the group for write-behind when what is stored of it changed.
 *
 * <p>Threading: the entry points may be called from any thread and never block; they run under the
 * group's monitor through {@link GroupTable}, as do the timer tasks. {@link #restore} is called holding it.
 */
record ConsumerGroups(GroupTable table, GroupWriteBehind writeBehind, Storage storage, Timer timer, CoordinatorConfig config) {
    private static final System.Logger LOG = System.getLogger(GroupCoordinator.class.getName());

    CompletionStage<ConsumerHeartbeatResult> consumerHeartbeat(ConsumerHeartbeat r) {
        String memberId = r.memberId() == null ? "" : r.memberId();
        String invalid = invalidHeartbeat(r, memberId);
        if (invalid != null) {
            return CompletableFuture.completedFuture(ConsumerHeartbeatResult.error(ErrorCode.INVALID_REQUEST.code(), invalid, memberId));
        }
        if (r.serverAssignor() != null && !Assignors.NAMES.contains(r.serverAssignor())) {
            return CompletableFuture.completedFuture(ConsumerHeartbeatResult.error(ErrorCode.UNSUPPORTED_ASSIGNOR.code(),
                    "ServerAssignor " + r.serverAssignor() + " is not supported. Supported assignors: "
                            + String.join(", ", Assignors.NAMES) + ".", memberId));
        }
        if (r.subscribedTopicRegex() != null && !r.subscribedTopicRegex().isEmpty()) {
            try {
                Pattern.compile(r.subscribedTopicRegex());
            } catch (PatternSyntaxException e) {
                return CompletableFuture.completedFuture(ConsumerHeartbeatResult.error(ErrorCode.INVALID_REGULAR_EXPRESSION.code(),
                        "SubscribedTopicRegex " + r.subscribedTopicRegex() + " is not a valid regular expression: "
                                + e.getDescription(), memberId));
            }
        }
        // v0 lets the coordinator name a joining member
        String id = memberId.isEmpty() ? UUID.randomUUID().toString() : memberId;
        return topicsSnapshot().thenCompose(topics -> table.run(r.groupId(), g -> consumerHeartbeat(g, r, id, topics)))
                .exceptionally(t -> ConsumerHeartbeatResult.error(code(t), null, id));
    }

    private static String invalidHeartbeat(ConsumerHeartbeat r, String memberId) {
        if (r.groupId() == null || r.groupId().isEmpty()) return "GroupId can't be empty.";
        if (r.memberEpoch() < LEAVE_GROUP_STATIC_MEMBER_EPOCH) return "MemberEpoch is invalid.";
        if (r.instanceId() != null && r.instanceId().isEmpty()) return "InstanceId can't be empty.";
        if (memberId.isEmpty() && (r.apiVersion() >= 1 || r.memberEpoch() != JOIN_GROUP_MEMBER_EPOCH)) return "MemberId can't be empty.";
        if (r.memberEpoch() == JOIN_GROUP_MEMBER_EPOCH) {
            if (r.rebalanceTimeoutMs() == NO_REBALANCE_TIMEOUT) return "RebalanceTimeoutMs must be provided in first request.";
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
            Map<String, Assignors.TopicMeta> out = new HashMap<>();
            for (var t : list) out.put(t.name(), new Assignors.TopicMeta(t.id(), t.partitionCount()));
            return out;
        });
    }

    private ConsumerHeartbeatResult consumerHeartbeat(Group g, ConsumerHeartbeat r, String memberId,
                                                      Map<String, Assignors.TopicMeta> topics) {
        ConsumerGroup before = g.consumer;
        int epoch = before == null ? NO_EPOCH : before.groupEpoch;
        String state = before == null ? "" : before.state();
        Object member = before == null ? null : stored(before.members.get(memberId));
        ConsumerHeartbeatResult result = consumerHeartbeatLocked(g, r, memberId, topics);
        ConsumerGroup after = g.consumer;
        if (after != null && (after != before || after.groupEpoch != epoch || !after.state().equals(state)
                || !Objects.equals(member, stored(after.members.get(memberId))))) {
            writeBehind.markDirty(g); // write-behind, as for classic groups
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
        if (g.dead) return ConsumerHeartbeatResult.error(ErrorCode.COORDINATOR_NOT_AVAILABLE.code(), null, memberId);
        if (g.consumer == null) {
            if (!g.members.isEmpty() || !g.pendingMembers.isEmpty() || g.state != GroupPhase.EMPTY) {
                return ConsumerHeartbeatResult.error(ErrorCode.GROUP_ID_NOT_FOUND.code(),
                        "Group " + g.groupId + " is not a consumer group.", memberId);
            }
            if (r.memberEpoch() != JOIN_GROUP_MEMBER_EPOCH) {
                // a member of a group this coordinator does not hold (e.g. after a restart): it rejoins
                return ConsumerHeartbeatResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code(),
                        "Member " + memberId + " is not a member of group " + g.groupId + ".", memberId);
            }
            g.consumer = new ConsumerGroup(); // a new group, or an empty classic one converted as Kafka does
            g.protocolType = Group.CONSUMER;
        }
        ConsumerGroup cg = g.consumer;
        cg.topics = topics;
        ConsumerMember m = cg.members.get(memberId);
        ConsumerMember holder = r.instanceId() == null ? null : cg.staticMember(r.instanceId());
        if (holder != null && holder != m && r.memberEpoch() != JOIN_GROUP_MEMBER_EPOCH) {
            return ConsumerHeartbeatResult.error(ErrorCode.FENCED_INSTANCE_ID.code(), "Static member " + memberId
                    + " with instance id " + r.instanceId() + " was replaced by member " + holder.memberId + ".", memberId);
        }
        if (r.memberEpoch() < 0) { // LEAVE_GROUP_MEMBER_EPOCH or LEAVE_GROUP_STATIC_MEMBER_EPOCH
            if (m == null) {
                return ConsumerHeartbeatResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code(),
                        "Member " + memberId + " is not a member of group " + g.groupId + ".", memberId);
            }
            if (r.memberEpoch() == LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                if (m.instanceId == null && r.instanceId() == null) {
                    return ConsumerHeartbeatResult.error(ErrorCode.INVALID_REQUEST.code(), "InstanceId can't be null.", memberId);
                }
                // a static member leaving for a while: it keeps its partitions until it comes back or expires
                LOG.log(Level.DEBUG, "group {0}: static member {1} left temporarily", g.groupId, memberId);
                if (m.revocationTimeout != null) m.revocationTimeout.cancel();
                m.revocationTimeout = null;
                if (m.memberEpoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH) m.previousMemberEpoch = m.memberEpoch;
                m.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                scheduleConsumerExpiry(g, m);
                return new ConsumerHeartbeatResult(ErrorCode.NONE.code(), null, memberId, LEAVE_GROUP_STATIC_MEMBER_EPOCH, 0, null);
            }
            LOG.log(Level.DEBUG, "group {0}: member {1} left", g.groupId, memberId);
            cg.remove(m);
            return new ConsumerHeartbeatResult(ErrorCode.NONE.code(), null, memberId, r.memberEpoch(), 0, null);
        }
        Assignment owned = r.ownedTopicPartitions() == null ? null : Assignment.of(r.ownedTopicPartitions());
        boolean changed = false;
        if (r.memberEpoch() == JOIN_GROUP_MEMBER_EPOCH) {
            if (m == null && holder != null) {
                if (holder.memberEpoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
                    return ConsumerHeartbeatResult.error(ErrorCode.UNRELEASED_INSTANCE_ID.code(), "Static member " + memberId
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
                m.previousMemberEpoch = NO_EPOCH;
                m.lastSent = null;
            }
        } else {
            if (m == null) {
                return ConsumerHeartbeatResult.error(ErrorCode.UNKNOWN_MEMBER_ID.code(),
                        "Member " + memberId + " is not a member of group " + g.groupId + ".", memberId);
            }
            int epoch = r.memberEpoch();
            // one epoch behind is accepted if what it owns is still its own (its previous response was lost)
            if (epoch > m.memberEpoch || (epoch < m.memberEpoch && (epoch != m.previousMemberEpoch || owned == null
                    || !owned.subsetOf(m.assigned)))) {
                return ConsumerHeartbeatResult.error(ErrorCode.FENCED_MEMBER_EPOCH.code(), "The consumer group member has a "
                        + (epoch > m.memberEpoch ? "greater" : "smaller") + " member epoch (" + epoch
                        + ") than the one known by the group coordinator (" + m.memberEpoch
                        + "). The member must abandon all its partitions and rejoin.", memberId);
            }
        }
        m.clientId = r.clientId() == null ? "" : r.clientId();
        m.clientHost = r.clientHost() == null ? "" : r.clientHost();
        if (r.rebalanceTimeoutMs() != NO_REBALANCE_TIMEOUT) m.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        if (r.rackId() != null) m.rackId = r.rackId().isEmpty() ? null : r.rackId();
        if (r.subscribedTopicNames() != null && !r.subscribedTopicNames().equals(m.subscribedTopicNames)) {
            m.subscribedTopicNames = List.copyOf(r.subscribedTopicNames());
            changed = true;
        }
        if (r.subscribedTopicRegex() != null) {
            String regex = r.subscribedTopicRegex().isEmpty() ? null : r.subscribedTopicRegex();
            if (!Objects.equals(regex, m.subscribedTopicRegex)) {
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
        if (r.memberEpoch() == JOIN_GROUP_MEMBER_EPOCH || owned != null || !m.assigned.equals(m.lastSent)) {
            assignment = m.assigned.toLists();
            m.lastSent = m.assigned;
        }
        return new ConsumerHeartbeatResult(ErrorCode.NONE.code(), null, memberId, m.memberEpoch, config.consumerHeartbeatIntervalMs(),
                assignment);
    }

    private void scheduleConsumerExpiry(Group g, ConsumerMember m) {
        if (m.expiry != null) m.expiry.cancel();
        m.expiry = timer.schedule(config.consumerSessionTimeoutMs(), () -> table.locked(g, () -> {
            if (g.consumer == null || g.consumer.members.get(m.memberId) != m) return;
            LOG.log(Level.INFO, "group {0}: member {1} expired after {2} ms without a heartbeat",
                    g.groupId, m.memberId, config.consumerSessionTimeoutMs());
            g.consumer.remove(m);
            writeBehind.markDirty(g);
        }));
    }

    /** A member that does not revoke within its rebalance timeout is removed (its partitions go to others). */
    private void scheduleRevocationTimeout(Group g, ConsumerMember m) {
        int epoch = m.memberEpoch;
        m.revocationTimeout = timer.schedule(Math.max(1, m.rebalanceTimeoutMs), () -> table.locked(g, () -> {
            if (g.consumer == null || g.consumer.members.get(m.memberId) != m) return;
            if (m.state != ConsumerMember.State.UNREVOKED_PARTITIONS || m.memberEpoch != epoch) return;
            LOG.log(Level.INFO, "group {0}: member {1} did not revoke {2} within {3} ms; removed",
                    g.groupId, m.memberId, m.pendingRevocation, m.rebalanceTimeoutMs);
            g.consumer.remove(m);
            writeBehind.markDirty(g);
        }));
    }

    /** ConsumerGroupDescribe for one group: GROUP_ID_NOT_FOUND unless it is a consumer group. */
    CompletionStage<ConsumerGroupDescription> describeConsumerGroup(String groupId) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(noGroup(ErrorCode.INVALID_GROUP_ID.code(), null, groupId == null ? "" : groupId));
        }
        return table.run(groupId, g -> {
            ConsumerGroup cg = g.consumer;
            if (g.dead || cg == null) {
                boolean exists = !g.dead && (g.hasMembers() || g.state != GroupPhase.EMPTY || g.version != GroupState.NO_VERSION);
                return noGroup(ErrorCode.GROUP_ID_NOT_FOUND.code(),
                        exists ? "Group " + groupId + " is not a consumer group." : "Group " + groupId + " not found.", groupId);
            }
            List<ConsumerGroupDescription.Member> members = new ArrayList<>();
            for (ConsumerMember m : cg.members.values()) {
                members.add(new ConsumerGroupDescription.Member(m.memberId, m.instanceId, m.rackId, m.memberEpoch,
                        m.clientId, m.clientHost, m.subscribedTopicNames, m.subscribedTopicRegex, m.assigned.toLists(),
                        cg.target.getOrDefault(m.memberId, Assignment.EMPTY).toLists()));
            }
            return new ConsumerGroupDescription(ErrorCode.NONE.code(), null, groupId, cg.state(), cg.groupEpoch, cg.assignmentEpoch,
                    cg.assignor, members, cg.topicNames());
        }).exceptionally(t -> noGroup(code(t), null, groupId));
    }

    private static ConsumerGroupDescription noGroup(short error, String message, String groupId) {
        return new ConsumerGroupDescription(error, message, groupId, "Dead", NO_EPOCH, NO_EPOCH, "", List.of(), Map.of());
    }

    /**
     * OffsetFetch v9+ from a member of a consumer group: UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH when the
     * member or its epoch is not the current one; NONE otherwise (and for anyone else, as admin tools fetch).
     */
    CompletionStage<Short> validateOffsetFetch(String groupId, String memberId, int memberEpoch) {
        boolean fromMember = memberEpoch >= 0 || (memberId != null && !memberId.isEmpty());
        if (!fromMember || groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(ErrorCode.NONE.code());
        return table.run(groupId, g -> {
            if (g.consumer == null) return ErrorCode.NONE.code();
            ConsumerMember m = g.consumer.members.get(memberId == null ? "" : memberId);
            if (m == null) return ErrorCode.UNKNOWN_MEMBER_ID.code();
            return m.memberEpoch == memberEpoch ? ErrorCode.NONE.code() : ErrorCode.STALE_MEMBER_EPOCH.code();
        }).exceptionally(GroupTable::code);
    }

    /** Test hook: the group's epoch and each member's epoch, state and assignment, as text. */
    String consumerGroupState(String groupId) {
        return table.run(groupId, g -> {
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

    /** Replaces the in-memory group with a stored consumer group: epochs, members and assignments as stored. */
    void restore(Group g, GroupState stored) {
        ConsumerGroup cg = ConsumerGroupCodec.decode(g.groupId, stored.data());
        if (g.consumer != null) {
            for (ConsumerMember m : g.consumer.members.values()) m.cancelTimers();
        }
        g.consumer = cg != null ? cg : new ConsumerGroup();
        g.protocolType = Group.CONSUMER;
        g.version = stored.version();
        // members continue where they were; each must heartbeat within a session timeout from now
        for (ConsumerMember m : g.consumer.members.values()) {
            scheduleConsumerExpiry(g, m);
            if (m.state == ConsumerMember.State.UNREVOKED_PARTITIONS) scheduleRevocationTimeout(g, m);
        }
    }
}
