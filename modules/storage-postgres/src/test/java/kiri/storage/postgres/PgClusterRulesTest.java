package kiri.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import kiri.client.NodeConnection;
import kiri.embedded.EmbeddedKiri;
import kiri.protocol.ApiMessage;
import kiri.protocol.message.AddOffsetsToTxnRequest;
import kiri.protocol.message.AddOffsetsToTxnResponse;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ConsumerGroupHeartbeatRequest;
import kiri.protocol.message.ConsumerGroupHeartbeatResponse;
import kiri.protocol.message.DescribeGroupsRequest;
import kiri.protocol.message.DescribeGroupsResponse;
import kiri.protocol.message.EndTxnRequest;
import kiri.protocol.message.EndTxnResponse;
import kiri.protocol.message.FindCoordinatorRequest;
import kiri.protocol.message.FindCoordinatorResponse;
import kiri.protocol.message.HeartbeatRequest;
import kiri.protocol.message.HeartbeatResponse;
import kiri.protocol.message.InitProducerIdRequest;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.protocol.message.JoinGroupRequest;
import kiri.protocol.message.JoinGroupResponse;
import kiri.protocol.message.OffsetCommitRequest;
import kiri.protocol.message.OffsetCommitResponse;
import kiri.protocol.message.OffsetFetchRequest;
import kiri.protocol.message.OffsetFetchResponse;
import kiri.protocol.message.SyncGroupRequest;
import kiri.protocol.message.SyncGroupResponse;
import kiri.transport.BufferPool;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kiri.testsupport.Wait;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Kafka's cluster rules on three brokers over one PostgreSQL: replication factors against the live brokers, coordinators. */
class PgClusterRulesTest {
    private static final short NOT_COORDINATOR = 16;

    static {
        // raw requests: the engine module (these tests are patched into it) does not read the protocol and client modules
        for (String name : List.of("kiri.protocol", "kiri.transport", "kiri.client")) {
            ModuleLayer.boot().findModule(name).ifPresent(PgClusterRulesTest.class.getModule()::addReads);
        }
    }
    private PgClusterFixture cluster;
    private Admin admin;

    @BeforeEach
    void start() throws Exception {
        cluster = PgClusterFixture.threeBrokers();
        admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrap()));
        Wait.until("three live brokers", () -> admin.describeCluster().nodes().get().size() == 3);
    }

    @AfterEach
    void stop() {
        if (admin != null) admin.close();
        if (cluster != null) cluster.close();
    }

    @Test
    void aReplicationFactorBeyondTheLiveBrokersIsRefusedAndMetadataShowsWhatWasAccepted() throws Exception {
        for (boolean validateOnly : List.of(true, false)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(
                    List.of(new NewTopic("four", 1, (short) 4)), new CreateTopicsOptions().validateOnly(validateOnly))
                    .all().get(60, TimeUnit.SECONDS));
            assertInstanceOf(InvalidReplicationFactorException.class, e.getCause(), "validateOnly " + validateOnly);
        }
        admin.createTopics(List.of(new NewTopic("three", 6, (short) 3), new NewTopic("default", Optional.of(2), Optional.empty())))
                .all().get(60, TimeUnit.SECONDS);

        Map<String, TopicDescription> topics = admin.describeTopics(List.of("three", "default")).allTopicNames().get(60, TimeUnit.SECONDS);
        Set<Integer> leaders = new HashSet<>();
        for (TopicPartitionInfo p : topics.get("three").partitions()) {
            List<Integer> replicas = p.replicas().stream().map(Node::id).toList();
            assertEquals(Set.of(1, 2, 3), new HashSet<>(replicas), "three distinct replicas of partition " + p.partition());
            assertEquals(replicas, p.isr().stream().map(Node::id).toList(), "all in sync: they share one storage");
            assertEquals(replicas.getFirst(), p.leader().id(), "the leader is the first replica");
            leaders.add(p.leader().id());
        }
        assertEquals(Set.of(1, 2, 3), leaders, "leadership spread over the brokers");
        for (TopicPartitionInfo p : topics.get("default").partitions()) {
            assertEquals(1, p.replicas().size(), "default.replication.factor is 1: " + p);
        }
        assertEquals(List.of("default", "three"), admin.listTopics().names().get(60, TimeUnit.SECONDS).stream().sorted().toList(),
                "the refused topic was not created");
    }

    /**
     * Group and transaction requests sent to a broker that does not coordinate their group or transactional id get
     * NOT_COORDINATOR (clients then ask FindCoordinator again); the coordinator serves them.
     */
    @Test
    void groupAndTransactionRequestsAtAnotherBrokerGetNotCoordinator() throws Exception {
        admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        BufferPool pool = new BufferPool();
        List<NodeConnection> nodes = new ArrayList<>();
        try {
            for (EmbeddedKiri b : cluster.brokers) {
                nodes.add(NodeConnection.open(-1, new InetSocketAddress("127.0.0.1", b.port()), pool, "test", Duration.ofSeconds(30)));
            }
            int groupCoordinator = agreedCoordinator(nodes, "g", (byte) 0);
            int txnCoordinator = agreedCoordinator(nodes, "tx", (byte) 1);
            NodeConnection notGroups = nodes.get(groupCoordinator % 3); // node ids are 1..3, connections 0..2
            NodeConnection notTxns = nodes.get(txnCoordinator % 3);
            NodeConnection groups = nodes.get(groupCoordinator - 1);

            JoinGroupRequest join = new JoinGroupRequest().setGroupId("g").setMemberId("").setProtocolType("consumer")
                    .setSessionTimeoutMs(10_000).setRebalanceTimeoutMs(10_000);
            join.protocols().add(new JoinGroupRequest.JoinGroupRequestProtocol().setName("range").setMetadata(MemorySegment.ofArray(new byte[0])));
            assertEquals(NOT_COORDINATOR, ((JoinGroupResponse) call(notGroups, ApiKey.JOIN_GROUP, join)).errorCode());
            assertNotEquals(NOT_COORDINATOR, ((JoinGroupResponse) call(groups, ApiKey.JOIN_GROUP, join)).errorCode(), "the coordinator serves it");
            assertEquals(NOT_COORDINATOR, ((HeartbeatResponse) call(notGroups, ApiKey.HEARTBEAT,
                    new HeartbeatRequest().setGroupId("g").setMemberId("m").setGenerationId(1))).errorCode());
            assertEquals(NOT_COORDINATOR, ((SyncGroupResponse) call(notGroups, ApiKey.SYNC_GROUP,
                    new SyncGroupRequest().setGroupId("g").setMemberId("m").setGenerationId(1))).errorCode());
            assertEquals(NOT_COORDINATOR, ((ConsumerGroupHeartbeatResponse) call(notGroups, ApiKey.CONSUMER_GROUP_HEARTBEAT,
                    new ConsumerGroupHeartbeatRequest().setGroupId("g").setMemberId("m").setMemberEpoch(0)
                            .setSubscribedTopicNames(new ArrayList<>(List.of("t"))).setRebalanceTimeoutMs(10_000))).errorCode());

            OffsetCommitRequest commit = new OffsetCommitRequest().setGroupId("g").setGenerationIdOrMemberEpoch(-1).setMemberId("");
            OffsetCommitRequest.OffsetCommitRequestTopic topic = new OffsetCommitRequest.OffsetCommitRequestTopic().setName("t");
            topic.partitions().add(new OffsetCommitRequest.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(5));
            commit.topics().add(topic);
            assertEquals(NOT_COORDINATOR, ((OffsetCommitResponse) call(notGroups, ApiKey.OFFSET_COMMIT, commit))
                    .topics().getFirst().partitions().getFirst().errorCode());
            OffsetFetchRequest fetch = new OffsetFetchRequest();
            fetch.groups().add(new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId("g").setTopics(null));
            assertEquals(NOT_COORDINATOR, ((OffsetFetchResponse) call(notGroups, ApiKey.OFFSET_FETCH, fetch)).groups().getFirst().errorCode());
            DescribeGroupsRequest describe = new DescribeGroupsRequest();
            describe.groups().add("g");
            assertEquals(NOT_COORDINATOR, ((DescribeGroupsResponse) call(notGroups, ApiKey.DESCRIBE_GROUPS, describe)).groups().getFirst().errorCode());

            InitProducerIdRequest init = new InitProducerIdRequest().setTransactionalId("tx").setTransactionTimeoutMs(60_000)
                    .setProducerId(-1).setProducerEpoch((short) -1);
            assertEquals(NOT_COORDINATOR, ((InitProducerIdResponse) call(notTxns, ApiKey.INIT_PRODUCER_ID, init)).errorCode());
            InitProducerIdResponse initialized = (InitProducerIdResponse) call(nodes.get(txnCoordinator - 1), ApiKey.INIT_PRODUCER_ID, init);
            assertEquals(0, initialized.errorCode(), "the coordinator serves it");
            assertEquals(NOT_COORDINATOR, ((EndTxnResponse) call(notTxns, ApiKey.END_TXN, new EndTxnRequest().setTransactionalId("tx")
                    .setProducerId(initialized.producerId()).setProducerEpoch(initialized.producerEpoch()).setCommitted(false))).errorCode());
            assertEquals(NOT_COORDINATOR, ((AddOffsetsToTxnResponse) call(notTxns, ApiKey.ADD_OFFSETS_TO_TXN, new AddOffsetsToTxnRequest()
                    .setTransactionalId("tx").setProducerId(initialized.producerId()).setProducerEpoch(initialized.producerEpoch())
                    .setGroupId("g"))).errorCode());
            assertEquals(0, ((InitProducerIdResponse) call(notTxns, ApiKey.INIT_PRODUCER_ID, new InitProducerIdRequest()
                    .setTransactionalId(null).setTransactionTimeoutMs(-1).setProducerId(-1).setProducerEpoch((short) -1))).errorCode(),
                    "an idempotent producer's InitProducerId goes to any broker");
        } finally {
            nodes.forEach(NodeConnection::close);
        }
    }

    private static ApiMessage call(NodeConnection node, ApiKey api, ApiMessage request) throws Exception {
        return node.send(api, request).get(60, TimeUnit.SECONDS);
    }

    /** The coordinator of {@code key} once every broker names the same (each renews its view of the live brokers in turn). */
    private static int agreedCoordinator(List<NodeConnection> nodes, String key, byte type) throws Exception {
        Wait.until("the brokers agree on the coordinator of " + key, () -> {
            Set<Integer> answers = new HashSet<>();
            for (NodeConnection n : nodes) answers.add(coordinator(n, key, type));
            return answers.size() == 1;
        });
        return coordinator(nodes.getFirst(), key, type);
    }

    /** FindCoordinator's answer for {@code key} (type 0 group, 1 transactional id). */
    private static int coordinator(NodeConnection node, String key, byte type) throws Exception {
        FindCoordinatorRequest request = new FindCoordinatorRequest().setKeyType(type);
        request.coordinatorKeys().add(key);
        FindCoordinatorResponse response = (FindCoordinatorResponse) call(node, ApiKey.FIND_COORDINATOR, request);
        FindCoordinatorResponse.Coordinator c = response.coordinators().getFirst();
        assertEquals(0, c.errorCode(), key);
        return c.nodeId();
    }
}
