package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.ResponseHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What librdkafka 2.14's own test suite found Kiri answering differently from Apache Kafka, each as
 * the frame a client sends and the answer Kafka gives (error codes as Kafka 4.1 answers them).
 */
class KafkaLeniencyTest {
    private static Broker broker;
    private static Uuid topicId;

    @BeforeAll
    static void start() throws Exception {
        broker = InProcessBroker.start("memory://");
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                InProcessBroker.bootstrap(broker)))) {
            topicId = admin.createTopics(List.of(new NewTopic("leniency", 2, (short) 1))).topicId("leniency").get();
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    /** Sends one request with {@code trailing} extra bytes after its body; returns the response body's bytes. */
    private static ByteBuffer exchange(ApiKeys api, short version, ApiMessage body, int trailing) throws IOException {
        short headerVersion = api.requestHeaderVersion(version);
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(api.id).setRequestApiVersion(version)
                .setClientId("leniency").setCorrelationId(77);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + body.size(cache, version);
        ByteBuffer frame = ByteBuffer.allocate(size + trailing);
        ByteBufferAccessor out = new ByteBufferAccessor(frame);
        header.write(out, cache, headerVersion);
        body.write(out, cache, version);
        try (Socket socket = new Socket("127.0.0.1", broker.localAddress().getPort())) {
            socket.setSoTimeout(30_000);
            DataOutputStream os = new DataOutputStream(socket.getOutputStream());
            os.writeInt(frame.capacity());
            os.write(frame.array());
            os.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            ByteBuffer b = ByteBuffer.wrap(response);
            assertEquals(77, ResponseHeader.parse(b, api.responseHeaderVersion(version)).correlationId());
            return b;
        }
    }

    @Test
    void allTopicsMetadataWithThreeSpareBytesIsAnswered() throws IOException {
        // librdkafka 2.14 reserves 4 bytes for the topic count of an all-topics Metadata v9+ and writes 1
        for (short version : new short[] {9, 12, 13}) {
            ByteBuffer b = exchange(ApiKeys.METADATA, version, new MetadataRequestData().setTopics(null), 3);
            MetadataResponseData response = new MetadataResponseData(new ByteBufferAccessor(b), version);
            assertNotNull(response.topics().find("leniency"), "v" + version + ": " + response);
        }
    }

    @Test
    void fetchAtAnOutOfRangeOffsetAnswersEmptyRecordsNotNull() throws IOException {
        short version = 16;
        FetchRequestData request = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1)
                .setMaxBytes(1 << 20).setSessionEpoch(-1).setTopics(List.of(new FetchRequestData.FetchTopic()
                        .setTopicId(topicId).setPartitions(List.of(new FetchRequestData.FetchPartition()
                                .setPartition(0).setFetchOffset(1_000).setPartitionMaxBytes(1 << 20)))));
        FetchResponseData response = new FetchResponseData(new ByteBufferAccessor(exchange(ApiKeys.FETCH, version,
                request, 0)), version);
        FetchResponseData.PartitionData p = response.responses().getFirst().partitions().getFirst();
        assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), p.errorCode());
        assertNotNull(p.records(), "records of a partition in error are empty, not null, as Kafka sends them");
        assertEquals(0, p.records().sizeInBytes());
        assertEquals(0, p.logStartOffset());
    }

    @Test
    void offsetCommitToATopicOrPartitionThatDoesNotExistIsRefused() throws IOException {
        short version = 8;
        OffsetCommitRequestData request = new OffsetCommitRequestData().setGroupId("leniency-group")
                .setGenerationIdOrMemberEpoch(-1).setMemberId("").setTopics(List.of(
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("no-such-topic")
                                .setPartitions(List.of(partition(0))),
                        new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("leniency")
                                .setPartitions(List.of(partition(1), partition(2)))));
        OffsetCommitResponseData response = new OffsetCommitResponseData(new ByteBufferAccessor(
                exchange(ApiKeys.OFFSET_COMMIT, version, request, 0)), version);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
                response.topics().get(0).partitions().get(0).errorCode(), "unknown topic");
        assertEquals(Errors.NONE.code(), response.topics().get(1).partitions().get(0).errorCode(), "partition 1");
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(),
                response.topics().get(1).partitions().get(1).errorCode(), "partition 2 of 2");
    }

    @Test
    void txnOffsetCommitToATopicThatDoesNotExistIsRefused() throws IOException {
        short version = 3;
        TxnOffsetCommitRequestData request = new TxnOffsetCommitRequestData().setTransactionalId("no-such-txn")
                .setGroupId("leniency-group").setProducerId(1).setProducerEpoch((short) 0).setGenerationId(-1)
                .setMemberId("").setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic()
                        .setName("no-such-topic").setPartitions(List.of(
                                new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                        .setPartitionIndex(0).setCommittedOffset(5)))));
        TxnOffsetCommitResponseData response = new TxnOffsetCommitResponseData(new ByteBufferAccessor(
                exchange(ApiKeys.TXN_OFFSET_COMMIT, version, request, 0)), version);
        assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), response.topics().getFirst().partitions().getFirst()
                .errorCode());
        assertTrue(response.topics().size() == 1);
    }

    private static OffsetCommitRequestData.OffsetCommitRequestPartition partition(int index) {
        return new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(index).setCommittedOffset(3);
    }
}
