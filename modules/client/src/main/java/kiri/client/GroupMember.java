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
import kiri.protocol.message.FindCoordinatorRequest;
import kiri.protocol.message.FindCoordinatorResponse;
import kiri.protocol.message.HeartbeatRequest;
import kiri.protocol.message.HeartbeatResponse;
import kiri.protocol.message.JoinGroupRequest;
import kiri.protocol.message.JoinGroupResponse;
import kiri.protocol.message.LeaveGroupRequest;
import kiri.protocol.message.OffsetCommitRequest;
import kiri.protocol.message.OffsetCommitResponse;
import kiri.protocol.message.OffsetFetchRequest;
import kiri.protocol.message.OffsetFetchResponse;
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
        if (coordinator >= 0) {
            return cluster.node(coordinator);
        }
        NodeConnection any = cluster.bootstrapConnection();
        long deadline = System.nanoTime() + cluster.timeout().toNanos();
        while (true) {
            FindCoordinatorRequest request = new FindCoordinatorRequest().setKeyType((byte) 0);
            if (any.version(ApiKey.FIND_COORDINATOR) >= 4) {
                request.setCoordinatorKeys(new ArrayList<>(List.of(groupId)));
            } else {
                request.setKey(groupId);
            }
            FindCoordinatorResponse r = (FindCoordinatorResponse) call(any, ApiKey.FIND_COORDINATOR, request);
            short error;
            String message;
            int node;
            if (any.version(ApiKey.FIND_COORDINATOR) >= 4) {
                FindCoordinatorResponse.Coordinator c = r.coordinators().getFirst();
                error = c.errorCode();
                message = c.errorMessage();
                node = c.nodeId();
            } else {
                error = r.errorCode();
                message = r.errorMessage();
                node = r.nodeId();
            }
            if (error == 0) {
                coordinator = node;
                return cluster.node(node);
            }
            if (!retriable(error) || System.nanoTime() > deadline) {
                throw ClientException.of(error, message, "find coordinator of group " + groupId);
            }
            pause();
        }
    }

    private static boolean retriable(short code) {
        return ErrorCode.isKnown(code) && ErrorCode.forCode(code).retriable();
    }

    private void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException("interrupted", e);
        }
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
                    pause();
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
        NodeConnection node = coordinator();
        OffsetFetchRequest request = new OffsetFetchRequest();
        boolean grouped = node.version(ApiKey.OFFSET_FETCH) >= 8;
        if (grouped) {
            List<OffsetFetchRequest.OffsetFetchRequestTopics> ts = new ArrayList<>();
            partitions.forEach((t, ps) -> ts.add(new OffsetFetchRequest.OffsetFetchRequestTopics().setName(t)
                    .setPartitionIndexes(ps.stream().mapToInt(Integer::intValue).toArray())));
            request.setGroups(new ArrayList<>(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId(groupId)
                    .setMemberId(null).setMemberEpoch(-1).setTopics(ts))));
        } else {
            List<OffsetFetchRequest.OffsetFetchRequestTopic> ts = new ArrayList<>();
            partitions.forEach((t, ps) -> ts.add(new OffsetFetchRequest.OffsetFetchRequestTopic().setName(t)
                    .setPartitionIndexes(ps.stream().mapToInt(Integer::intValue).toArray())));
            request.setGroupId(groupId).setTopics(ts);
        }
        OffsetFetchResponse response = (OffsetFetchResponse) call(node, ApiKey.OFFSET_FETCH, request);
        Map<String, Long> out = new LinkedHashMap<>();
        if (grouped) {
            for (OffsetFetchResponse.OffsetFetchResponseGroup g : response.groups()) {
                ClientException.check(g.errorCode(), null, "fetch offsets of group " + groupId);
                for (OffsetFetchResponse.OffsetFetchResponseTopics t : g.topics()) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartitions p : t.partitions()) {
                        ClientException.check(p.errorCode(), null, "fetch offset of " + t.name() + "-" + p.partitionIndex());
                        out.put(t.name() + "-" + p.partitionIndex(), p.committedOffset());
                    }
                }
            }
        } else {
            ClientException.check(response.errorCode(), null, "fetch offsets of group " + groupId);
            for (OffsetFetchResponse.OffsetFetchResponseTopic t : response.topics()) {
                for (OffsetFetchResponse.OffsetFetchResponsePartition p : t.partitions()) {
                    ClientException.check(p.errorCode(), null, "fetch offset of " + t.name() + "-" + p.partitionIndex());
                    out.put(t.name() + "-" + p.partitionIndex(), p.committedOffset());
                }
            }
        }
        return out;
    }

    /** Commits next-offsets-to-read for this generation; {@code offsets} maps topic to partition to offset. */
    public void commit(Map<String, Map<Integer, Long>> offsets) throws IOException {
        if (offsets.isEmpty()) {
            return;
        }
        List<OffsetCommitRequest.OffsetCommitRequestTopic> ts = new ArrayList<>();
        offsets.forEach((t, ps) -> {
            List<OffsetCommitRequest.OffsetCommitRequestPartition> parts = new ArrayList<>();
            ps.forEach((p, o) -> parts.add(new OffsetCommitRequest.OffsetCommitRequestPartition().setPartitionIndex(p)
                    .setCommittedOffset(o).setCommittedLeaderEpoch(-1).setCommittedMetadata("")));
            ts.add(new OffsetCommitRequest.OffsetCommitRequestTopic().setName(t).setPartitions(parts));
        });
        OffsetCommitRequest request = new OffsetCommitRequest().setGroupId(groupId).setGenerationIdOrMemberEpoch(generation)
                .setMemberId(memberId).setGroupInstanceId(null).setRetentionTimeMs(-1).setTopics(ts);
        OffsetCommitResponse response = (OffsetCommitResponse) call(coordinator(), ApiKey.OFFSET_COMMIT, request);
        for (OffsetCommitResponse.OffsetCommitResponseTopic t : response.topics()) {
            for (OffsetCommitResponse.OffsetCommitResponsePartition p : t.partitions()) {
                ClientException.check(p.errorCode(), null, "commit offset of " + t.name() + "-" + p.partitionIndex());
            }
        }
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
