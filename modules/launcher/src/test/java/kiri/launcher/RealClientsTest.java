package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import kiri.protocol.message.ApiKey;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Unmodified Kafka clients against an in-process Kiri broker on null storage and an ephemeral port. */
class RealClientsTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = InProcessBroker.start("null://");
        bootstrap = InProcessBroker.bootstrap(broker);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    @Test
    void adminCreatesListsDescribesGrowsAndDeletesTopics() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1),
                    new NewTopic("audit", 1, (short) 1).configs(Map.of("retention.ms", "1000")))).all().get();
            var error = assertThrowsCause(TopicExistsException.class,
                    () -> admin.createTopics(List.of(new NewTopic("orders", 1, (short) 1))).all().get());
            assertTrue(error.getMessage().contains("orders"), error.getMessage());

            Set<String> names = admin.listTopics().names().get();
            assertTrue(names.containsAll(Set.of("orders", "audit")), names.toString());

            TopicDescription orders = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
            assertEquals(3, orders.partitions().size());
            assertEquals(0, orders.partitions().get(2).leader().id());
            assertFalse(orders.topicId().toString().isEmpty());

            var configs = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "audit")))
                    .all().get().values().iterator().next();
            assertEquals("1000", configs.get("retention.ms").value());
            assertEquals("delete", configs.get("cleanup.policy").value());

            admin.createPartitions(Map.of("orders", NewPartitions.increaseTo(5))).all().get();
            assertEquals(5, admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders")
                    .partitions().size());

            admin.deleteTopics(List.of("orders", "audit")).all().get();
            assertFalse(admin.listTopics().names().get().contains("orders"));
            assertThrowsCause(UnknownTopicOrPartitionException.class,
                    () -> admin.describeTopics(List.of("orders")).allTopicNames().get());
            assertEquals(1, admin.describeCluster().nodes().get().size());
        }
    }

    private static <T extends Throwable> T assertThrowsCause(Class<T> type, org.junit.jupiter.api.function.Executable e) {
        try {
            e.execute();
        } catch (Throwable t) {
            Throwable c = t instanceof java.util.concurrent.ExecutionException ? t.getCause() : t;
            if (type.isInstance(c)) {
                return type.cast(c);
            }
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + c, c);
        }
        throw new AssertionError("expected " + type.getSimpleName());
    }

    private static Properties producerProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    @Test
    void defaultIdempotentProducerGetsEveryRecordAcknowledged() throws Exception {
        Properties props = producerProps(); // Kafka's defaults: acks=all, idempotence on, 5 in flight
        assertEquals(100_000, TestProducers.produceAcked(props, "default-producer", 100_000));
        // offsets were assigned without gaps: the next append starts at the record count
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props)) {
            RecordMetadata m = producer.send(new ProducerRecord<>("default-producer", "k", new byte[1])).get();
            assertEquals(100_000, m.offset());
        }
    }

    @Test
    void pipelinedProducersWithFiveInFlight() throws Exception {
        Properties props = producerProps();
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 1024); // many small requests, so several are in flight
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        List<Future<Integer>> runs = new ArrayList<>();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            for (int i = 0; i < 3; i++) {
                runs.add(pool.submit(() -> TestProducers.produceAcked(props, "pipelined", 20_000)));
            }
            for (Future<Integer> f : runs) {
                assertEquals(20_000, f.get(2, TimeUnit.MINUTES));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void acksZeroProducerSendsWithoutResponses() throws Exception {
        Properties props = producerProps();
        props.put(ProducerConfig.ACKS_CONFIG, "0");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        long before = broker.metrics().of(ApiKey.PRODUCE).requests();
        assertEquals(10_000, TestProducers.produceAcked(props, "fire-and-forget", 10_000));
        // the broker handled produce requests, and the client was never confused by a response it didn't expect
        assertTrue(broker.metrics().of(ApiKey.PRODUCE).requests() > before);
        try (Admin admin = admin()) {
            assertTrue(admin.listTopics().names().get().contains("fire-and-forget"));
        }
    }

    @Test
    void corruptedBatchGetsCorruptMessageAndTheConnectionLives() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("corrupt", 1, (short) 1))).all().get();
        }
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("k".getBytes(), "v".getBytes()));
        ByteBuffer bytes = records.buffer().duplicate();
        bytes.put(bytes.limit() - 1, (byte) (bytes.get(bytes.limit() - 1) ^ 0xff)); // inside the CRC-covered region
        ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("corrupt");
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0)
                .setRecords(MemoryRecords.readableRecords(bytes)));
        data.topicData().add(topic);
        try (Socket socket = new Socket("127.0.0.1", broker.localAddress().getPort())) {
            socket.setSoTimeout(10_000);
            var out = new DataOutputStream(socket.getOutputStream());
            var in = new DataInputStream(socket.getInputStream());
            RequestHeader produceHeader = new RequestHeader(ApiKeys.PRODUCE, (short) 11, "test", 1);
            send(out, new ProduceRequest.Builder((short) 11, (short) 11, data).build((short) 11)
                    .serializeWithHeader(produceHeader));
            ProduceResponse response = (ProduceResponse) AbstractResponse.parseResponse(receive(in), produceHeader);
            var partition = response.data().responses().iterator().next().partitionResponses().get(0);
            assertEquals(Errors.CORRUPT_MESSAGE.code(), partition.errorCode());

            RequestHeader versionsHeader = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "test", 2);
            send(out, new ApiVersionsRequest.Builder().build((short) 3).serializeWithHeader(versionsHeader));
            ApiVersionsResponse versions = (ApiVersionsResponse) AbstractResponse.parseResponse(receive(in),
                    versionsHeader);
            assertEquals(Errors.NONE.code(), versions.data().errorCode(), "same connection still answers");
            assertEquals(0, versions.data().apiKeys().find(ApiKeys.PRODUCE.id).minVersion(),
                    "Produce advertised from v0 for librdkafka, like Kafka 4");
            assertEquals(9, versions.data().apiKeys().find(ApiKeys.OFFSET_COMMIT.id).maxVersion(),
                    "the unstable latest version (v10) is not advertised");
        }
    }

    private static void send(DataOutputStream out, ByteBuffer frame) throws java.io.IOException {
        byte[] b = new byte[frame.remaining()];
        frame.duplicate().get(b);
        out.writeInt(b.length);
        out.write(b);
        out.flush();
    }

    private static ByteBuffer receive(DataInputStream in) throws java.io.IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return ByteBuffer.wrap(b);
    }
}
