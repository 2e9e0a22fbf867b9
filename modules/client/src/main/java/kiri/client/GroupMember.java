package kiri.client;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.Message;
import kiri.protocol.WireReader;
import kiri.protocol.WireWriter;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ConsumerProtocolAssignment;
import kiri.protocol.message.ConsumerProtocolSubscription;
import kiri.protocol.message.HeartbeatRequest;
import kiri.protocol.message.HeartbeatResponse;
import kiri.protocol.message.JoinGroupRequest;
import kiri.protocol.message.JoinGroupResponse;
import kiri.protocol.message.LeaveGroupRequest;
import kiri.protocol.message.SyncGroupRequest;
import kiri.protocol.message.SyncGroupResponse;

/**
 * Membership in a classic consumer group ("consumer" protocol, range assignor): FindCoordinator,
 * JoinGroup (with the member-id handshake), SyncGroup (computing the assignment when this member
 * leads), Heartbeat, OffsetFetch, OffsetCommit and LeaveGroup. Blocking; one thread.
 */
public final class GroupMember implements AutoCloseable {
    private static final String PROTOCOL_TYPE = "consumer";
    private static final String ASSIGNOR = "range";
    private static final int SESSION_TIMEOUT_MS = 45_000;
    private static final int REBALANCE_TIMEOUT_MS = 30_000;

    private final Cluster cluster;
    private final String groupId;
    private final List<String> topics;
    private int coordinator = -1;
    private String memberId = "";
    private int generation = -1;

    public GroupMember(Cluster cluster, String groupId, List<String> topics) {
        this.cluster = cluster;
        this.groupId = groupId;
        this.topics = List.copyOf(topics);
    }

    public String memberId() {
        return memberId;
    }

    public int generation() {
        return generation;
    }

    private NodeConnection coordinator() throws IOException {
        if (coordinator < 0) {
            coordinator = GroupCoordinators.find(cluster, groupId, cluster.timeout().plusMillis(REBALANCE_TIMEOUT_MS));
        }
        return cluster.node(coordinator);
    }

    private ApiMessage call(NodeConnection node, ApiKey api, ApiMessage request) throws IOException {
        return NodeConnection.await(node.send(api, request), cluster.timeout().plusMillis(REBALANCE_TIMEOUT_MS));
    }

    /** Joins (or rejoins) the group and returns this member's partitions per topic. */
    public Map<String, List<Integer>> join() throws IOException {
        long deadline = System.nanoTime() + cluster.timeout().toNanos() + REBALANCE_TIMEOUT_MS * 1_000_000L;
        while (true) {
            NodeConnection node = coordinator();
            ConsumerProtocolSubscription subscription = new ConsumerProtocolSubscription().setTopics(new ArrayList<>(topics));
            JoinGroupRequest join = new JoinGroupRequest().setGroupId(groupId).setSessionTimeoutMs(SESSION_TIMEOUT_MS)
                    .setRebalanceTimeoutMs(REBALANCE_TIMEOUT_MS).setMemberId(memberId).setProtocolType(PROTOCOL_TYPE)
                    .setProtocols(new ArrayList<>(List.of(new JoinGroupRequest.JoinGroupRequestProtocol().setName(ASSIGNOR)
                            .setMetadata(versioned(subscription, (short) 0)))));
            JoinGroupResponse joined = (JoinGroupResponse) call(node, ApiKey.JOIN_GROUP, join);
            ErrorCode error = code(joined.errorCode());
            if (error == ErrorCode.MEMBER_ID_REQUIRED) {
                memberId = joined.memberId();
                continue;
            }
            if (error == ErrorCode.UNKNOWN_MEMBER_ID) {
                memberId = "";
                continue;
            }
            if (error == ErrorCode.NOT_COORDINATOR || error == ErrorCode.COORDINATOR_NOT_AVAILABLE) {
                coordinator = -1;
            }
            if (error != ErrorCode.NONE) {
                if (error != null && error.retriable() && System.nanoTime() < deadline) {
                    GroupCoordinators.pause();
                    continue;
                }
                throw ClientException.of(joined.errorCode(), null, "join group " + groupId);
            }
            memberId = joined.memberId();
            generation = joined.generationId();
            List<SyncGroupRequest.SyncGroupRequestAssignment> assignments = new ArrayList<>();
            if (memberId.equals(joined.leader()) && !joined.skipAssignment()) {
                assign(joined.members()).forEach((member, assignment) -> assignments.add(
                        new SyncGroupRequest.SyncGroupRequestAssignment().setMemberId(member)
                                .setAssignment(versioned(assignment, (short) 0))));
            }
            SyncGroupRequest sync = new SyncGroupRequest().setGroupId(groupId).setGenerationId(generation)
                    .setMemberId(memberId).setProtocolType(PROTOCOL_TYPE).setProtocolName(ASSIGNOR)
                    .setAssignments(assignments);
            SyncGroupResponse synced = (SyncGroupResponse) call(node, ApiKey.SYNC_GROUP, sync);
            ErrorCode syncError = code(synced.errorCode());
            if (syncError == ErrorCode.REBALANCE_IN_PROGRESS || syncError == ErrorCode.ILLEGAL_GENERATION) {
                continue;
            }
            if (syncError == ErrorCode.UNKNOWN_MEMBER_ID) {
                memberId = "";
                continue;
            }
            ClientException.check(synced.errorCode(), null, "sync group " + groupId);
            Map<String, List<Integer>> mine = new TreeMap<>();
            MemorySegment bytes = synced.assignment();
            if (bytes != null && bytes.byteSize() >= 2) {
                WireReader r = new WireReader(bytes);
                short version = (short) Math.min(r.readInt16(), ConsumerProtocolAssignment.HIGHEST_SUPPORTED_VERSION);
                ConsumerProtocolAssignment a = ConsumerProtocolAssignment.read(r, version);
                for (ConsumerProtocolAssignment.TopicPartition tp : a.assignedPartitions()) {
                    List<Integer> parts = mine.computeIfAbsent(tp.topic(), t -> new ArrayList<>());
                    for (int p : tp.partitions()) {
                        parts.add(p);
                    }
                }
            }
            return mine;
        }
    }

    private static ErrorCode code(short c) {
        return ErrorCode.isKnown(c) ? ErrorCode.forCode(c) : null;
    }

    /** A consumer-protocol struct as the group protocol carries it: an int16 version, then the struct. */
    private static MemorySegment versioned(Message m, short version) {
        MemorySegment out = Arena.ofAuto().allocate(2L + m.size(version));
        WireWriter w = new WireWriter(out);
        w.writeInt16(version);
        m.write(w, version);
        return out;
    }

    /** The range assignor, per topic: members sorted by id, partitions split in contiguous ranges. */
    private Map<String, ConsumerProtocolAssignment> assign(List<JoinGroupResponse.JoinGroupResponseMember> members)
            throws IOException {
        Map<String, List<String>> subscriptions = new TreeMap<>();
        for (JoinGroupResponse.JoinGroupResponseMember m : members) {
            WireReader r = new WireReader(m.metadata());
            short version = (short) Math.min(r.readInt16(), ConsumerProtocolSubscription.HIGHEST_SUPPORTED_VERSION);
            subscriptions.put(m.memberId(), ConsumerProtocolSubscription.read(r, version).topics());
        }
        Map<String, ConsumerProtocolAssignment> out = new LinkedHashMap<>();
        for (String member : subscriptions.keySet()) {
            out.put(member, new ConsumerProtocolAssignment());
        }
        java.util.Set<String> allTopics = new java.util.TreeSet<>();
        subscriptions.values().forEach(allTopics::addAll);
        for (String topic : allTopics) {
            List<String> subscribers = new ArrayList<>();
            subscriptions.forEach((member, ts) -> {
                if (ts.contains(topic)) {
                    subscribers.add(member);
                }
            });
            int partitions = cluster.topic(topic, false).partitions().size();
            int per = partitions / subscribers.size();
            int extra = partitions % subscribers.size();
            int next = 0;
            for (int i = 0; i < subscribers.size(); i++) {
                int count = per + (i < extra ? 1 : 0);
                if (count == 0) {
                    continue;
                }
                int[] range = new int[count];
                for (int j = 0; j < count; j++) {
                    range[j] = next++;
                }
                out.get(subscribers.get(i)).assignedPartitions().add(
                        new ConsumerProtocolAssignment.TopicPartition().setTopic(topic).setPartitions(range));
            }
        }
        return out;
    }

    /** Committed offsets of these partitions ("topic-partition" to offset; -1 when none). */
    public Map<String, Long> committed(Map<String, List<Integer>> partitions) throws IOException {
        List<TopicPartition> asked = new ArrayList<>();
        partitions.forEach((t, ps) -> ps.forEach(p -> asked.add(new TopicPartition(t, p))));
        Map<String, Long> out = new LinkedHashMap<>();
        GroupOffsets.fetch(coordinator(), groupId, asked, cluster.timeout().plusMillis(REBALANCE_TIMEOUT_MS))
                .forEach((tp, o) -> out.put(tp.toString(), o));
        return out;
    }

    /** Commits next-offsets-to-read for this generation; {@code offsets} maps topic to partition to offset. */
    public void commit(Map<String, Map<Integer, Long>> offsets) throws IOException {
        Map<TopicPartition, Long> flat = new LinkedHashMap<>();
        offsets.forEach((t, ps) -> ps.forEach((p, o) -> flat.put(new TopicPartition(t, p), o)));
        GroupOffsets.commit(coordinator(), groupId, generation, memberId, flat,
                cluster.timeout().plusMillis(REBALANCE_TIMEOUT_MS));
    }

    /** Sends a heartbeat; false when the group is rebalancing (or forgot us) and {@link #join} must run again. */
    public boolean heartbeat() throws IOException {
        HeartbeatRequest request = new HeartbeatRequest().setGroupId(groupId).setGenerationId(generation)
                .setMemberId(memberId);
        HeartbeatResponse response = (HeartbeatResponse) call(coordinator(), ApiKey.HEARTBEAT, request);
        ErrorCode error = code(response.errorCode());
        if (error == ErrorCode.REBALANCE_IN_PROGRESS || error == ErrorCode.ILLEGAL_GENERATION) {
            return false;
        }
        if (error == ErrorCode.UNKNOWN_MEMBER_ID || error == ErrorCode.FENCED_INSTANCE_ID) {
            memberId = "";
            return false;
        }
        if (error == ErrorCode.NOT_COORDINATOR || error == ErrorCode.COORDINATOR_NOT_AVAILABLE) {
            coordinator = -1;
            return false;
        }
        ClientException.check(response.errorCode(), null, "heartbeat to group " + groupId);
        return true;
    }

    /** Leaves the group (best effort), so the others rebalance at once instead of after the session timeout. */
    @Override
    public void close() {
        if (memberId.isEmpty() || coordinator < 0) {
            return;
        }
        try {
            NodeConnection node = coordinator();
            LeaveGroupRequest request = new LeaveGroupRequest().setGroupId(groupId);
            if (node.version(ApiKey.LEAVE_GROUP) >= 3) {
                request.setMembers(new ArrayList<>(List.of(new LeaveGroupRequest.MemberIdentity().setMemberId(memberId)
                        .setReason("kiri consumer closing"))));
            } else {
                request.setMemberId(memberId);
            }
            call(node, ApiKey.LEAVE_GROUP, request);
        } catch (IOException | RuntimeException e) {
            // best effort: the session timeout removes us anyway
        }
        memberId = "";
    }
}
