package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import kiri.protocol.record.RecordBatch;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Produce requests whose batches lie about their records, sent as raw frames to a live broker on
 * memory storage: the partition gets INVALID_RECORD (87) as from Apache Kafka, nothing is stored (the
 * end offset stays), other partitions of the same request are stored, and later good batches are
 * accepted. Also what Kafka refuses per record: keyless records on a compacted topic, timestamps
 * beyond message.timestamp.after.max.ms, with their indexes in recordErrors.
 */
class PoisonedBatchesTest {
    private static final byte[] K = "k".getBytes(StandardCharsets.UTF_8);
    private static final byte[] V = "v".getBytes(StandardCharsets.UTF_8);
    private static Broker broker;
    private static Admin admin;
    private static int correlation;

    @BeforeAll
    static void start() throws Exception {
        broker = InProcessBroker.start("memory://");
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker)));
    }

    @AfterAll
    static void stop() {
        admin.close();
        broker.close();
    }

    @Test
    void aBatchClaimingAMillionRecordsButHoldingOneIsRefusedForItsPartitionOnly() throws Exception {
        createTopic("claims", 2, Map.of());
        var responses = produce("claims", Map.of(0, claiming(batch(Compression.NONE, K), 1_000_000),
                1, batch(Compression.NONE, K)));
        assertRefused(responses.get(0), "declares 1000000 records but holds 1");
        assertEquals(Errors.NONE.code(), responses.get(1).errorCode(), "the other partition is stored");
        assertEquals(0, latest("claims", 0), "nothing stored: the end offset did not jump");
        assertEquals(1, latest("claims", 1));
        assertAcceptedAt(0, produce("claims", Map.of(0, batch(Compression.NONE, K, K))).get(0));
        assertEquals(2, latest("claims", 0));
    }

    @Test
    void aRecordClaimingAMillionHeadersButHoldingNoneIsRefused() throws Exception {
        createTopic("headers", 1, Map.of());
        assertRefused(produce("headers", Map.of(0, headerBomb())).get(0), "declares 1000000 headers");
        assertEquals(0, latest("headers", 0));
        assertAcceptedAt(0, produce("headers", Map.of(0, batch(Compression.NONE, K))).get(0));
        assertEquals(1, latest("headers", 0));
    }

    @Test
    void aCompressedBatchIsValidatedOnItsRecords() throws Exception {
        createTopic("gzipped", 1, Map.of());
        assertRefused(produce("gzipped", Map.of(0, claiming(batch(Compression.gzip().build(), K, K), 1_000_000))).get(0),
                "declares 1000000 records but holds 2");
        assertEquals(0, latest("gzipped", 0));
        assertAcceptedAt(0, produce("gzipped", Map.of(0, batch(Compression.lz4().build(), K, K, K))).get(0));
        assertEquals(3, latest("gzipped", 0));
    }

    @Test
    void keylessRecordsOnACompactedTopicAreRefusedWithTheirIndexes() throws Exception {
        createTopic("compacted", 1, Map.of("cleanup.policy", "compact"));
        var response = produce("compacted", Map.of(0, batch(Compression.NONE, K, null, K))).get(0);
        assertEquals(Errors.INVALID_RECORD.code(), response.errorCode());
        assertEquals(1, response.recordErrors().size());
        assertEquals(1, response.recordErrors().get(0).batchIndex());
        assertEquals("Compacted topic cannot accept message without key in topic partition compacted-0",
                response.recordErrors().get(0).batchIndexErrorMessage());
        assertTrue(response.errorMessage().startsWith("One or more records have been rejected due to 1 record errors"),
                response.errorMessage());
        assertEquals(0, latest("compacted", 0));

        // what librdkafka's test 0011 checks, with kafka-clients: the keyless send fails, a keyed one goes through
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, InProcessBroker.bootstrap(broker),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            producer.send(new ProducerRecord<>("compacted", "key", "value")).get();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("compacted", null, "value")).get());
            assertInstanceOf(InvalidRecordException.class, e.getCause());
        }
        assertEquals(1, latest("compacted", 0));
    }

    @Test
    void aTimestampBeyondTheTopicsAfterMaxIsInvalidTimestamp() throws Exception {
        createTopic("future", 1, Map.of("message.timestamp.after.max.ms", "60000"));
        long now = System.currentTimeMillis();
        MemoryRecords records = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(now, K, V),
                new SimpleRecord(now + 3_600_000L, K, V));
        var response = produce("future", Map.of(0, records)).get(0);
        assertEquals(Errors.INVALID_TIMESTAMP.code(), response.errorCode());
        assertEquals(List.of(1), response.recordErrors().stream().map(ProduceResponseData.BatchIndexAndErrorMessage::batchIndex).toList());
        assertEquals(0, latest("future", 0));
    }

    private static void assertRefused(ProduceResponseData.PartitionProduceResponse response, String why) {
        assertEquals(Errors.INVALID_RECORD.code(), response.errorCode(), response.toString());
        assertEquals(-1L, response.baseOffset());
        assertTrue(response.errorMessage().contains(why), response.errorMessage());
        assertEquals(List.of(), response.recordErrors(), "a malformed batch has no per-record errors, as in Kafka");
    }

    private static void assertAcceptedAt(long offset, ProduceResponseData.PartitionProduceResponse response) {
        assertEquals(Errors.NONE.code(), response.errorCode(), response.toString());
        assertEquals(offset, response.baseOffset());
    }

    private static void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all().get();
    }

    private static long latest(String topic, int partition) throws Exception {
        TopicPartition tp = new TopicPartition(topic, partition);
        return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset();
    }

    /** A batch of one record per key (null for none), each with value "v". */
    private static MemoryRecords batch(Compression compression, byte[]... keys) {
        SimpleRecord[] records = new SimpleRecord[keys.length];
        for (int i = 0; i < keys.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), keys[i], V);
        }
        return MemoryRecords.withRecords(compression, records);
    }

    /** A copy of {@code records}' batch claiming {@code count} records (recordCount, lastOffsetDelta), CRC rewritten. */
    private static MemoryRecords claiming(MemoryRecords records, int count) {
        ByteBuffer b = copy(records.buffer());
        b.putInt(RecordBatch.RECORD_COUNT_OFFSET, count).putInt(RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        return withCrc(b);
    }

    /** One record whose header count says 1,000,000 and which has no headers (its length fits its fields). */
    private static MemoryRecords headerBomb() {
        ByteBuffer plain = copy(batch(Compression.NONE, K).buffer());
        // the record ends with its header count, 0 (one byte); 1,000,000 zig-zagged is 2,000,000: 3 varint bytes
        byte[] count = {(byte) 0x80, (byte) 0x89, (byte) 0x7a};
        int recordLength = plain.get(RecordBatch.HEADER_SIZE) >> 1; // a one-byte zig-zag varint for a small record
        ByteBuffer b = ByteBuffer.allocate(plain.limit() + 2);
        b.put(plain.array(), 0, plain.limit() - 1).put(count).flip();
        b.put(RecordBatch.HEADER_SIZE, (byte) ((recordLength + 2) << 1));
        b.putInt(RecordBatch.BATCH_LENGTH_OFFSET, b.limit() - RecordBatch.LOG_OVERHEAD);
        return withCrc(b);
    }

    private static ByteBuffer copy(ByteBuffer buffer) {
        ByteBuffer b = ByteBuffer.allocate(buffer.remaining());
        b.put(buffer.duplicate()).flip();
        return b;
    }

    private static MemoryRecords withCrc(ByteBuffer b) {
        new RecordBatch().wrap(MemorySegment.ofArray(b.array()), 0).writeCrc();
        return MemoryRecords.readableRecords(b);
    }

    /** One Produce v11 request (acks=-1) over its own connection; the partition responses by index. */
    private static Map<Integer, ProduceResponseData.PartitionProduceResponse> produce(String topic,
            Map<Integer, MemoryRecords> partitions) throws Exception {
        ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
        ProduceRequestData.TopicProduceData t = new ProduceRequestData.TopicProduceData().setName(topic);
        partitions.forEach((p, records) -> t.partitionData().add(
                new ProduceRequestData.PartitionProduceData().setIndex(p).setRecords(records)));
        data.topicData().add(t);
        RequestHeader header = new RequestHeader(ApiKeys.PRODUCE, (short) 11, "poison", ++correlation);
        ByteBuffer frame = new ProduceRequest.Builder((short) 11, (short) 11, data).build((short) 11)
                .serializeWithHeader(header);
        try (Socket socket = new Socket("127.0.0.1", broker.localAddress().getPort())) {
            socket.setSoTimeout(60_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            byte[] bytes = new byte[frame.remaining()];
            frame.get(bytes);
            out.writeInt(bytes.length);
            out.write(bytes);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            ProduceResponse parsed = (ProduceResponse) AbstractResponse.parseResponse(ByteBuffer.wrap(response), header);
            Map<Integer, ProduceResponseData.PartitionProduceResponse> byIndex = new LinkedHashMap<>();
            for (var topicResponse : parsed.data().responses()) {
                for (var p : topicResponse.partitionResponses()) {
                    byIndex.put(p.index(), p);
                }
            }
            return byIndex;
        }
    }
}
