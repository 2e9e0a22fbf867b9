package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.Test;

/**
 * What a producer does when a produce response is lost: it sends the same batch (same producer
 * id, epoch and sequence) again. The broker must answer with the original offset and keep one
 * copy; a sequence gap is refused. Driven with kafka-clients' own request encoding.
 */
class IdempotentRetryTest {
    private int correlation;

    private ByteBuffer call(DataOutputStream out, DataInputStream in, ApiKeys api, short version, AbstractRequest request,
            RequestHeader[] header) throws Exception {
        header[0] = new RequestHeader(api, version, "retry-test", ++correlation);
        ByteBuffer frame = request.serializeWithHeader(header[0]);
        byte[] b = new byte[frame.remaining()];
        frame.get(b);
        out.writeInt(b.length);
        out.write(b);
        out.flush();
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        return ByteBuffer.wrap(response);
    }

    private ProduceResponse.PartitionResponse produce(DataOutputStream out, DataInputStream in, MemoryRecords records)
            throws Exception {
        ProduceRequestData data = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(10_000);
        ProduceRequestData.TopicProduceData topic = new ProduceRequestData.TopicProduceData().setName("retried");
        topic.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(records));
        data.topicData().add(topic);
        RequestHeader[] header = new RequestHeader[1];
        ByteBuffer bytes = call(out, in, ApiKeys.PRODUCE, (short) 11,
                new ProduceRequest.Builder((short) 11, (short) 11, data).build((short) 11), header);
        var response = (ProduceResponse) AbstractResponse.parseResponse(bytes, header[0]);
        var p = response.data().responses().iterator().next().partitionResponses().getFirst();
        return new ProduceResponse.PartitionResponse(Errors.forCode(p.errorCode()), p.baseOffset(), -1, -1);
    }

    @Test
    void aRetriedBatchIsStoredOnceAndAGapIsRefused() throws Exception {
        for (String storage : List.of("memory://", "file:" + java.nio.file.Files.createTempDirectory("kiri-retry"))) {
            try (Broker broker = InProcessBroker.start(storage);
                    Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                            InProcessBroker.bootstrap(broker)));
                    Socket socket = new Socket("127.0.0.1", broker.localAddress().getPort())) {
                admin.createTopics(List.of(new NewTopic("retried", 1, (short) 1))).all().get();
                socket.setSoTimeout(10_000);
                var out = new DataOutputStream(socket.getOutputStream());
                var in = new DataInputStream(socket.getInputStream());

                RequestHeader[] header = new RequestHeader[1];
                ByteBuffer init = call(out, in, ApiKeys.INIT_PRODUCER_ID, (short) 4, new InitProducerIdRequest.Builder(
                        new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000)).build((short) 4), header);
                var id = ((InitProducerIdResponse) AbstractResponse.parseResponse(init, header[0])).data();
                assertEquals(Errors.NONE.code(), id.errorCode(), storage);

                SimpleRecord[] three = {new SimpleRecord("a".getBytes()), new SimpleRecord("b".getBytes()),
                        new SimpleRecord("c".getBytes())};
                var first = produce(out, in, MemoryRecords.withIdempotentRecords(Compression.NONE, id.producerId(),
                        id.producerEpoch(), 0, three));
                assertEquals(Errors.NONE, first.error, storage);
                // the response was "lost": the producer sends the very same batch again
                var retry = produce(out, in, MemoryRecords.withIdempotentRecords(Compression.NONE, id.producerId(),
                        id.producerEpoch(), 0, three));
                assertEquals(Errors.NONE, retry.error, storage);
                assertEquals(first.baseOffset, retry.baseOffset, "the retry gets the original offset: " + storage);

                var gap = produce(out, in, MemoryRecords.withIdempotentRecords(Compression.NONE, id.producerId(),
                        id.producerEpoch(), 5, new SimpleRecord("z".getBytes())));
                assertEquals(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, gap.error, storage);

                TopicPartition tp = new TopicPartition("retried", 0);
                long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset();
                assertEquals(3, end, "one copy of the three records, nothing from the gap: " + storage);
            }
        }
    }
}
