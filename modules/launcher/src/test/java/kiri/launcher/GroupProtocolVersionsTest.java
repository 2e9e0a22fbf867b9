package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetDeleteRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.DeleteGroupsRequest;
import org.apache.kafka.common.requests.DeleteGroupsResponse;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.LeaveGroupRequest;
import org.apache.kafka.common.requests.LeaveGroupResponse;
import org.apache.kafka.common.requests.ListGroupsRequest;
import org.apache.kafka.common.requests.ListGroupsResponse;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetCommitResponse;
import org.apache.kafka.common.requests.OffsetDeleteRequest;
import org.apache.kafka.common.requests.OffsetDeleteResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every version of the group APIs, encoded by kafka-clients' own message classes over a raw socket:
 * older versions are what older clients (and librdkafka) send; v10 of OffsetCommit/OffsetFetch names
 * topics by id.
 */
class GroupProtocolVersionsTest {
    private static Broker broker;
    private static Uuid topicId;
    private static int correlation;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("kiri.group.initial.rebalance.delay.ms", "0");
        broker = InProcessBroker.start("null://");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker)))) {
            admin.createTopics(List.of(new NewTopic("versions", 2, (short) 1))).all().get();
            topicId = admin.describeTopics(List.of("versions")).allTopicNames().get().get("versions").topicId();
        }
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
        System.clearProperty("kiri.group.initial.rebalance.delay.ms");
    }

    private static final class Client implements AutoCloseable {
        final Socket socket;
        final DataOutputStream out;
        final DataInputStream in;

        Client() throws IOException {
            socket = new Socket("127.0.0.1", broker.localAddress().getPort());
            socket.setSoTimeout(30_000);
            out = new DataOutputStream(socket.getOutputStream());
            in = new DataInputStream(socket.getInputStream());
        }

        @SuppressWarnings("unchecked")
        <R extends AbstractResponse> R call(ApiKeys api, short version, AbstractRequest request) throws IOException {
            RequestHeader header = new RequestHeader(api, version, "versions-test", ++correlation);
            ByteBuffer frame = request.serializeWithHeader(header);
            byte[] b = new byte[frame.remaining()];
            frame.duplicate().get(b);
            out.writeInt(b.length);
            out.write(b);
            out.flush();
            byte[] answer = new byte[in.readInt()];
            in.readFully(answer);
            return (R) AbstractResponse.parseResponse(ByteBuffer.wrap(answer), header);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static JoinGroupRequestData join(String group, String memberId) {
        JoinGroupRequestData data = new JoinGroupRequestData().setGroupId(group).setMemberId(memberId)
                .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000).setProtocolType("consumer");
        data.protocols().add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                .setMetadata(new byte[] {0, 0, 0, 0, 0, 1, 0, 8, 'v', 'e', 'r', 's', 'i', 'o', 'n', 's'}));
        return data;
    }

    @ParameterizedTest(name = "JoinGroup v{0}")
    @ValueSource(shorts = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
    void aMemberJoinsSyncsHeartbeatsAndLeavesAtEveryVersion(short v) throws Exception {
        String group = "join-v" + v;
        short sync = (short) Math.min(v, 5);
        short heartbeat = (short) Math.min(v, 4);
        short leave = (short) Math.min(v, 5);
        try (Client c = new Client()) {
            JoinGroupResponse joined = c.call(ApiKeys.JOIN_GROUP, v, new JoinGroupRequest(join(group, ""), v));
            if (v >= 4) {
                assertEquals(Errors.MEMBER_ID_REQUIRED, joined.error(), "v4+ first gets its member id");
                joined = c.call(ApiKeys.JOIN_GROUP, v, new JoinGroupRequest(join(group, joined.data().memberId()), v));
            }
            assertEquals(Errors.NONE, joined.error());
            String memberId = joined.data().memberId();
            int generation = joined.data().generationId();
            assertEquals(1, generation);
            assertEquals(memberId, joined.data().leader());
            assertEquals(1, joined.data().members().size());
            if (v >= 7) assertEquals("range", joined.data().protocolName());

            SyncGroupRequestData syncData = new SyncGroupRequestData().setGroupId(group).setMemberId(memberId)
                    .setGenerationId(generation);
            if (sync >= 5) syncData.setProtocolType("consumer").setProtocolName("range");
            syncData.assignments().add(new SyncGroupRequestData.SyncGroupRequestAssignment().setMemberId(memberId)
                    .setAssignment(new byte[] {4, 2}));
            SyncGroupResponse synced = c.call(ApiKeys.SYNC_GROUP, sync, new SyncGroupRequest(syncData, sync));
            assertEquals(Errors.NONE, synced.error());
            assertEquals(2, synced.data().assignment().length);

            HeartbeatResponse beat = c.call(ApiKeys.HEARTBEAT, heartbeat, new HeartbeatRequest.Builder(new HeartbeatRequestData()
                    .setGroupId(group).setMemberId(memberId).setGenerationId(generation)).build(heartbeat));
            assertEquals(Errors.NONE, beat.error());
            HeartbeatResponse stale = c.call(ApiKeys.HEARTBEAT, heartbeat, new HeartbeatRequest.Builder(new HeartbeatRequestData()
                    .setGroupId(group).setMemberId(memberId).setGenerationId(generation + 7)).build(heartbeat));
            assertEquals(Errors.ILLEGAL_GENERATION, stale.error());

            LeaveGroupResponse left = c.call(ApiKeys.LEAVE_GROUP, leave, new LeaveGroupRequest.Builder(group,
                    List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId(memberId))).build(leave));
            assertEquals(Errors.NONE, left.topLevelError());
            if (leave >= 3) assertEquals(Errors.NONE.code(), left.data().members().getFirst().errorCode());
        }
    }

    // v10 (topic ids) is marked unstable in the 4.1 specs: like Kafka, the broker neither advertises nor serves it
    @ParameterizedTest(name = "OffsetCommit v{0}")
    @ValueSource(shorts = {2, 3, 4, 5, 6, 7, 8, 9})
    void offsetsCommitAndFetchAtEveryVersion(short v) throws Exception {
        String group = "offsets-v" + v;
        short fetch = (short) Math.min(v, 10);
        try (Client c = new Client()) {
            OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId(group)
                    .setGenerationIdOrMemberEpoch(-1).setMemberId("");
            OffsetCommitRequestData.OffsetCommitRequestTopic topic = new OffsetCommitRequestData.OffsetCommitRequestTopic();
            if (v >= 10) topic.setTopicId(topicId);
            else topic.setName("versions");
            topic.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(1)
                    .setCommittedOffset(100 + v).setCommittedMetadata("m" + v));
            commit.topics().add(topic);
            OffsetCommitResponse committed = c.call(ApiKeys.OFFSET_COMMIT, v, new OffsetCommitRequest(commit, v));
            assertEquals(Errors.NONE.code(), committed.data().topics().getFirst().partitions().getFirst().errorCode());
            if (v >= 10) assertEquals(topicId, committed.data().topics().getFirst().topicId());

            OffsetFetchResponse fetched = c.call(ApiKeys.OFFSET_FETCH, fetch, fetchRequest(group, fetch, false));
            assertFetched(fetched, fetch, group, 100 + v, "m" + v);
            // null topics: every committed partition
            OffsetFetchResponse all = c.call(ApiKeys.OFFSET_FETCH, fetch, fetchRequest(group, fetch, true));
            assertFetched(all, fetch, group, 100 + v, "m" + v);
        }
    }

    @Test
    void offsetFetchBatchesGroupsFromVersion8() throws Exception {
        try (Client c = new Client()) {
            for (String group : List.of("batch-a", "batch-b")) {
                OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId(group)
                        .setGenerationIdOrMemberEpoch(-1);
                commit.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("versions")
                        .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition()
                                .setPartitionIndex(0).setCommittedOffset(group.endsWith("a") ? 5 : 6))));
                c.call(ApiKeys.OFFSET_COMMIT, (short) 9, new OffsetCommitRequest(commit, (short) 9));
            }
            OffsetFetchRequestData data = new OffsetFetchRequestData();
            for (String group : List.of("batch-a", "batch-b", "batch-none")) {
                data.groups().add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group)
                        .setTopics(List.of(new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("versions")
                                .setPartitionIndexes(List.of(0)))));
            }
            OffsetFetchResponse fetched = c.call(ApiKeys.OFFSET_FETCH, (short) 9,
                    OffsetFetchRequest.Builder.forTopicNames(data, false).build((short) 9));
            var groups = fetched.data().groups();
            assertEquals(3, groups.size());
            assertEquals(5, groups.get(0).topics().getFirst().partitions().getFirst().committedOffset());
            assertEquals(6, groups.get(1).topics().getFirst().partitions().getFirst().committedOffset());
            assertEquals(-1, groups.get(2).topics().getFirst().partitions().getFirst().committedOffset());
        }
    }

    private static OffsetFetchRequest fetchRequest(String group, short v, boolean allTopics) {
        OffsetFetchRequestData.OffsetFetchRequestTopics t = new OffsetFetchRequestData.OffsetFetchRequestTopics()
                .setPartitionIndexes(List.of(0, 1));
        if (v >= 10) t.setTopicId(topicId);
        else t.setName("versions");
        OffsetFetchRequestData data = new OffsetFetchRequestData();
        data.groups().add(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId(group)
                .setTopics(allTopics ? null : List.of(t)));
        return OffsetFetchRequest.Builder.forTopicIdsOrNames(data, false, true).build(v);
    }

    private static void assertFetched(OffsetFetchResponse response, short v, String group, long offset, String metadata) {
        if (v < 8) {
            assertEquals(Errors.NONE.code(), response.data().errorCode());
            var partitions = response.data().topics().getFirst().partitions();
            var p1 = partitions.stream().filter(p -> p.partitionIndex() == 1).findFirst().orElseThrow();
            assertEquals(offset, p1.committedOffset());
            assertEquals(metadata, p1.metadata());
            partitions.stream().filter(p -> p.partitionIndex() == 0)
                    .forEach(p -> assertEquals(-1L, p.committedOffset(), "never committed"));
        } else {
            var g = response.data().groups().getFirst();
            assertEquals(group, g.groupId());
            assertEquals(Errors.NONE.code(), g.errorCode());
            var t = g.topics().getFirst();
            if (v >= 10) assertEquals(topicId, t.topicId());
            else assertEquals("versions", t.name());
            var p1 = t.partitions().stream().filter(p -> p.partitionIndex() == 1).findFirst().orElseThrow();
            assertEquals(offset, p1.committedOffset());
            assertEquals(metadata, p1.metadata());
        }
    }

    @Test
    void describeListDeleteAndOffsetDeleteAtEveryVersion() throws Exception {
        try (Client c = new Client()) {
            OffsetCommitRequestData commit = new OffsetCommitRequestData().setGroupId("admin-v").setGenerationIdOrMemberEpoch(-1);
            commit.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("versions")
                    .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0)
                            .setCommittedOffset(1), new OffsetCommitRequestData.OffsetCommitRequestPartition()
                            .setPartitionIndex(1).setCommittedOffset(2))));
            c.call(ApiKeys.OFFSET_COMMIT, (short) 8, new OffsetCommitRequest(commit, (short) 8));

            for (short v = 0; v <= 6; v++) {
                DescribeGroupsResponse described = c.call(ApiKeys.DESCRIBE_GROUPS, v, new DescribeGroupsRequest.Builder(
                        new DescribeGroupsRequestData().setGroups(List.of("admin-v", "nobody"))).build(v));
                var groups = described.data().groups();
                assertEquals("Empty", groups.get(0).groupState(), "v" + v);
                assertEquals(Errors.NONE.code(), groups.get(0).errorCode());
                assertEquals("Dead", groups.get(1).groupState());
                assertEquals(v >= 6 ? Errors.GROUP_ID_NOT_FOUND.code() : Errors.NONE.code(), groups.get(1).errorCode(),
                        "v" + v);
            }
            for (short v = 0; v <= 5; v++) {
                ListGroupsRequestData data = new ListGroupsRequestData();
                if (v >= 4) data.setStatesFilter(List.of("Empty"));
                if (v >= 5) data.setTypesFilter(List.of("classic"));
                ListGroupsResponse listed = c.call(ApiKeys.LIST_GROUPS, v, new ListGroupsRequest(data, v));
                assertTrue(listed.data().groups().stream().anyMatch(g -> g.groupId().equals("admin-v")), "v" + v);
                if (v >= 4) {
                    assertTrue(listed.data().groups().stream().allMatch(g -> g.groupState().equals("Empty")));
                    ListGroupsResponse stable = c.call(ApiKeys.LIST_GROUPS, v, new ListGroupsRequest(
                            new ListGroupsRequestData().setStatesFilter(List.of("Stable")), v));
                    assertFalse(stable.data().groups().stream().anyMatch(g -> g.groupId().equals("admin-v")));
                }
            }
            OffsetDeleteRequestData delete = new OffsetDeleteRequestData().setGroupId("admin-v");
            OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection topics = new OffsetDeleteRequestData.OffsetDeleteRequestTopicCollection();
            OffsetDeleteRequestData.OffsetDeleteRequestTopic t = new OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("versions");
            t.partitions().add(new OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0));
            topics.add(t);
            delete.setTopics(topics);
            OffsetDeleteResponse deleted = c.call(ApiKeys.OFFSET_DELETE, (short) 0,
                    new OffsetDeleteRequest.Builder(delete).build((short) 0));
            assertEquals(Errors.NONE.code(), deleted.data().errorCode());
            OffsetFetchResponse left = c.call(ApiKeys.OFFSET_FETCH, (short) 9, fetchRequest("admin-v", (short) 9, true));
            var partitions = left.data().groups().getFirst().topics().getFirst().partitions();
            assertEquals(List.of(1), partitions.stream().map(p -> p.partitionIndex()).toList(), "only partition 1 is left");

            for (short v = 0; v <= 2; v++) {
                String group = "delete-v" + v;
                OffsetCommitRequestData one = new OffsetCommitRequestData().setGroupId(group).setGenerationIdOrMemberEpoch(-1);
                one.topics().add(new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("versions").setPartitions(
                        List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(3))));
                c.call(ApiKeys.OFFSET_COMMIT, (short) 8, new OffsetCommitRequest(one, (short) 8));
                DeleteGroupsResponse result = c.call(ApiKeys.DELETE_GROUPS, v, new DeleteGroupsRequest(
                        new DeleteGroupsRequestData().setGroupsNames(List.of(group, "never-was")), v));
                assertEquals(Errors.NONE.code(), result.data().results().find(group).errorCode());
                assertEquals(Errors.GROUP_ID_NOT_FOUND.code(), result.data().results().find("never-was").errorCode());
            }
        }
    }
}
