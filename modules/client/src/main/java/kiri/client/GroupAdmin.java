package kiri.client;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiri.protocol.ErrorCode;
import kiri.protocol.WireReader;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ConsumerProtocolAssignment;
import kiri.protocol.message.DeleteGroupsRequest;
import kiri.protocol.message.DeleteGroupsResponse;
import kiri.protocol.message.DescribeGroupsRequest;
import kiri.protocol.message.DescribeGroupsResponse;
import kiri.protocol.message.ListGroupsRequest;
import kiri.protocol.message.ListGroupsResponse;

/**
 * Consumer group administration, as Kafka's {@code kafka-consumer-groups} needs it: list, describe,
 * committed offsets, admin offset commits (resets), delete (partition offsets: {@link Admin#listOffsets}).
 * Group requests go to the group's coordinator; ListGroups goes to every broker. Blocking; thread-safe.
 */
public final class GroupAdmin {
    /** A group as ListGroups reports it ({@code state} is empty from brokers that predate ListGroups v4). */
    public record GroupListing(String groupId, String protocolType, String state) {
    }

    /** A member and the partitions the group assigned it. */
    public record Member(String memberId, String groupInstanceId, String clientId, String host, List<TopicPartition> assignment) {
    }

    /** A group as DescribeGroups reports it; {@code coordinator} is the coordinator's node id. */
    public record GroupDescription(String groupId, String state, String protocolType, String protocol, int coordinator,
            List<Member> members) {
    }

    private final Cluster cluster;

    public GroupAdmin(Cluster cluster) {
        this.cluster = cluster;
    }

    /** Every group on every broker, sorted by id. */
    public List<GroupListing> listGroups() throws IOException {
        Map<String, GroupListing> out = new TreeMap<>();
        for (int node : cluster.metadata(List.of(), false).brokers().keySet()) {
            ListGroupsResponse response = (ListGroupsResponse) NodeConnection.await(
                    cluster.node(node).send(ApiKey.LIST_GROUPS, new ListGroupsRequest()), cluster.timeout());
            ClientException.check(response.errorCode(), null, "list groups on broker " + node);
            for (ListGroupsResponse.ListedGroup g : response.groups()) {
                out.put(g.groupId(), new GroupListing(g.groupId(), g.protocolType(), g.groupState() == null ? "" : g.groupState()));
            }
        }
        return List.copyOf(out.values());
    }

    /** Describes a group; one that doesn't exist is reported in state {@code Dead} with no members, as Kafka does. */
    public GroupDescription describeGroup(String groupId) throws IOException {
        int coordinator = coordinator(groupId);
        DescribeGroupsRequest request = new DescribeGroupsRequest().setGroups(new ArrayList<>(List.of(groupId)));
        DescribeGroupsResponse response = (DescribeGroupsResponse) NodeConnection.await(
                cluster.node(coordinator).send(ApiKey.DESCRIBE_GROUPS, request), cluster.timeout());
        DescribeGroupsResponse.DescribedGroup g = response.groups().getFirst();
        if (g.errorCode() == ErrorCode.GROUP_ID_NOT_FOUND.code()) { // DescribeGroups v6+; older versions answer Dead
            return new GroupDescription(groupId, "Dead", "", "", coordinator, List.of());
        }
        ClientException.check(g.errorCode(), g.errorMessage(), "describe group " + groupId);
        List<Member> members = new ArrayList<>();
        for (DescribeGroupsResponse.DescribedGroupMember m : g.members()) {
            boolean consumer = "consumer".equals(g.protocolType());
            members.add(new Member(m.memberId(), m.groupInstanceId(), m.clientId(), m.clientHost(),
                    consumer ? assignment(m.memberAssignment()) : List.of()));
        }
        return new GroupDescription(g.groupId(), g.groupState(), g.protocolType(), g.protocolData(), coordinator,
                List.copyOf(members));
    }

    /** The group's committed offsets, every partition it has one for, sorted. */
    public Map<TopicPartition, Long> committedOffsets(String groupId) throws IOException {
        Map<TopicPartition, Long> all = GroupOffsets.fetch(cluster.node(coordinator(groupId)), groupId, null, cluster.timeout());
        all.values().removeIf(o -> o < 0);
        return all;
    }

    /**
     * Commits offsets for a group with no active members (Kafka refuses it for an active group with
     * UNKNOWN_MEMBER_ID; callers check the state first, as {@code kafka-consumer-groups --reset-offsets} does).
     */
    public void commitOffsets(String groupId, Map<TopicPartition, Long> offsets) throws IOException {
        GroupOffsets.commit(cluster.node(coordinator(groupId)), groupId, -1, "", offsets, cluster.timeout());
    }

    /** Deletes a group with its offsets; fails with NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND if unknown. */
    public void deleteGroup(String groupId) throws IOException {
        DeleteGroupsRequest request = new DeleteGroupsRequest().setGroupsNames(new ArrayList<>(List.of(groupId)));
        DeleteGroupsResponse response = (DeleteGroupsResponse) NodeConnection.await(
                cluster.node(coordinator(groupId)).send(ApiKey.DELETE_GROUPS, request), cluster.timeout());
        for (DeleteGroupsResponse.DeletableGroupResult r : response.results()) {
            ClientException.check(r.errorCode(), null, "delete group " + r.groupId());
        }
    }

    private int coordinator(String groupId) throws IOException {
        return GroupCoordinators.find(cluster, groupId, cluster.timeout());
    }

    private static List<TopicPartition> assignment(MemorySegment bytes) {
        List<TopicPartition> out = new ArrayList<>();
        if (bytes != null && bytes.byteSize() >= 2) {
            WireReader r = new WireReader(bytes);
            short version = (short) Math.min(r.readInt16(), ConsumerProtocolAssignment.HIGHEST_SUPPORTED_VERSION);
            for (ConsumerProtocolAssignment.TopicPartition tp : ConsumerProtocolAssignment.read(r, version).assignedPartitions()) {
                for (int p : tp.partitions()) {
                    out.add(new TopicPartition(tp.topic(), p));
                }
            }
        }
        out.sort(null);
        return out;
    }
}
