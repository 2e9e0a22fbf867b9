package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import kiri.protocol.Frames;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.RequestHeader;
import kiri.storage.api.NewTopic;
import kiri.storage.api.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fetch sizes as Kafka bounds them (KIP-74): a request's MaxBytes capped by the broker's fetch.max.bytes (55 MiB),
 * per-partition max bytes with the first batch allowed whole, and a connection that pipelines fetches without
 * reading the answers does not make the broker hold fetch.max.bytes per request. Real frames on a real socket,
 * against {@code memory://} (whose fetch responses are copied into memory, not sent from files).
 */
class FetchLimitsTest {
    private static final short VERSION = 12;
    private static final int BATCH = 1 << 20;
    private static final int BATCHES = 70;
    private static final long FETCH_MAX_BYTES = 55L << 20;
    private static Broker broker;

    @BeforeAll
    static void fill() throws Exception {
        broker = InProcessBroker.start("memory://");
        broker.storage().createTopic(new NewTopic("big", 1), false).toCompletableFuture().get();
        byte[] value = new byte[BATCH - 100];
        for (int i = 0; i < BATCHES; i++) {
            ByteBuffer batch = MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(value)).buffer();
            byte[] bytes = new byte[batch.remaining()];
            batch.get(bytes);
            broker.storage().produce(null, new TopicPartition("big", 0), MemorySegment.ofArray(bytes))
                    .toCompletableFuture().get();
        }
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void aTwoGibibyteFetchIsAnsweredWithAtMostFetchMaxBytes() throws IOException {
        try (Socket socket = connect()) {
            send(socket, fetch(1, Integer.MAX_VALUE, Integer.MAX_VALUE));
            long records = records(read(socket), 1);
            assertTrue(records <= FETCH_MAX_BYTES, records + " bytes of records, more than fetch.max.bytes");
            assertTrue(records > FETCH_MAX_BYTES - 2L * BATCH, records + " bytes: whole batches up to fetch.max.bytes");
        }
    }

    @Test
    void partitionMaxBytesBoundsAPartitionButItsFirstBatchGoesWhole() throws IOException {
        try (Socket socket = connect()) {
            send(socket, fetch(2, Integer.MAX_VALUE, 3 * BATCH / 2));
            long records = records(read(socket), 2);
            assertEquals(1, Math.round((double) records / BATCH), records + " bytes: one batch of about 1 MiB");
            send(socket, fetch(3, Integer.MAX_VALUE, 1000));
            records = records(read(socket), 3);
            assertTrue(records >= BATCH - 100 && records < 2 * BATCH, records + ": the first batch, larger than the limit, whole");
        }
    }

    @Test
    void pipelinedUnreadFetchesShareOneFetchMaxBytes() throws IOException {
        int n = 16;
        try (Socket socket = connect()) {
            for (int i = 0; i < n; i++) {
                send(socket, fetch(100 + i, Integer.MAX_VALUE, Integer.MAX_VALUE));
            }
            long total = 0;
            for (int i = 0; i < n; i++) {
                total += records(read(socket), 100 + i);
            }
            // without the bound: 16 x 55 MiB held for a peer that does not read
            assertTrue(total <= FETCH_MAX_BYTES + BATCH, total + " bytes of records answered to 16 pipelined fetches");
        }
    }

    private static Socket connect() throws IOException {
        Socket socket = new Socket("127.0.0.1", broker.localAddress().getPort());
        socket.setSoTimeout(60_000);
        return socket;
    }

    private static MemorySegment fetch(int correlationId, int maxBytes, int partitionMaxBytes) {
        FetchRequest request = new FetchRequest().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(1).setMaxBytes(maxBytes)
                .setIsolationLevel((byte) 0).setSessionId(0).setSessionEpoch(-1)
                .setTopics(List.of(new FetchRequest.FetchTopic().setTopic("big").setPartitions(List.of(
                        new FetchRequest.FetchPartition().setPartition(0).setFetchOffset(0).setCurrentLeaderEpoch(-1)
                                .setLogStartOffset(-1).setPartitionMaxBytes(partitionMaxBytes)))));
        RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.FETCH.id).setRequestApiVersion(VERSION)
                .setCorrelationId(correlationId).setClientId("limits");
        return Frames.encodeRequest(header, request, size -> MemorySegment.ofArray(new byte[(int) size]));
    }

    private static void send(Socket socket, MemorySegment frame) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(frame.toArray(ValueLayout.JAVA_BYTE));
        out.flush();
    }

    private static MemorySegment read(Socket socket) throws IOException {
        DataInputStream in = new DataInputStream(socket.getInputStream());
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        return MemorySegment.ofArray(response);
    }

    /** The bytes of records in a fetch response (checked for errors). */
    private static long records(MemorySegment frame, int correlationId) {
        FetchResponse response = (FetchResponse) Frames.readResponse(frame, ApiKey.FETCH, VERSION, correlationId);
        assertEquals(0, response.errorCode());
        long bytes = 0;
        for (FetchResponse.FetchableTopicResponse topic : response.responses()) {
            for (FetchResponse.PartitionData p : topic.partitions()) {
                assertEquals(0, p.errorCode());
                bytes += p.records() == null ? 0 : p.records().byteSize();
            }
        }
        return bytes;
    }
}
