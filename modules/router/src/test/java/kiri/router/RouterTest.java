package kiri.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ApiMessage;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.HeartbeatResponse;
import kiri.transport.Server;
import kiri.transport.ServerConfig;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The router behind a real transport server, spoken to with bytes kafka-clients encodes. */
class RouterTest {
    private Server server;
    private Socket socket;
    private DataOutputStream out;
    private DataInputStream in;
    private final ApiMetrics metrics = new ApiMetrics();

    @BeforeEach
    void start() throws IOException {
        RouteTable[] table = new RouteTable[1];
        RouteTable routes = RouteTable.builder()
                .route(ApiKey.API_VERSIONS, new ApiVersionsHandler(() -> table[0]))
                // a heartbeat for a member "silent" gets no response at all, to check ordering around None
                .route(ApiKey.HEARTBEAT, (short) 0, (short) 3, (ctx, request) -> {
                    var hb = (kiri.protocol.message.HeartbeatRequest) request;
                    ApiMessage response = hb.memberId().equals("silent") ? null
                            : new HeartbeatResponse().setErrorCode((short) 27);
                    return CompletableFuture.completedFuture(response);
                })
                .build();
        table[0] = routes.wrap(List.of(new RequestLogging(), metrics));
        server = Server.start(ServerConfig.builder(new Router(table[0])).bind("127.0.0.1", 0).build());
        socket = new Socket("127.0.0.1", server.localAddress().getPort());
        socket.setSoTimeout(10_000);
        out = new DataOutputStream(socket.getOutputStream());
        in = new DataInputStream(socket.getInputStream());
    }

    @AfterEach
    void stop() throws IOException {
        socket.close();
        server.close();
    }

    private void send(ByteBuffer frame) throws IOException {
        out.writeInt(frame.remaining());
        byte[] b = new byte[frame.remaining()];
        frame.duplicate().get(b);
        out.write(b);
        out.flush();
    }

    private ByteBuffer receive() throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return ByteBuffer.wrap(b);
    }

    private boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        }
    }

    @Test
    void apiVersionsListsExactlyTheRoutedApis() throws IOException {
        RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "test", 41);
        send(new ApiVersionsRequest.Builder().build((short) 3).serializeWithHeader(header));
        ApiVersionsResponse response = (ApiVersionsResponse) AbstractResponse.parseResponse(receive(), header);
        assertEquals(Errors.NONE.code(), response.data().errorCode());
        ApiVersionsResponseData.ApiVersionCollection keys = response.data().apiKeys();
        assertEquals(2, keys.size());
        assertEquals(4, keys.find(ApiKeys.API_VERSIONS.id).maxVersion());
        assertEquals(3, keys.find(ApiKeys.HEARTBEAT.id).maxVersion());
        assertEquals(1, metrics.of(ApiKey.API_VERSIONS).requests());
    }

    @Test
    void apiVersionsAtAnUnknownNewerVersionGetsUnsupportedVersionInV0() throws IOException {
        // header v2 (flexible): api key 18, version 99, correlation id 7, client id "x", no tagged fields; a body
        // Kiri can't read must not matter
        ByteBuffer frame = ByteBuffer.allocate(14);
        frame.putShort((short) 18).putShort((short) 99).putInt(7).putShort((short) 1).put((byte) 'x').put((byte) 0)
                .put((byte) 0x55).put((byte) 0x66).flip();
        send(frame);
        ByteBuffer response = receive();
        assertEquals(7, response.getInt(), "correlation id in a v0 response header");
        ApiVersionsResponseData data = new ApiVersionsResponseData(
                new org.apache.kafka.common.protocol.ByteBufferAccessor(response), (short) 0);
        assertEquals(Errors.UNSUPPORTED_VERSION.code(), data.errorCode());
        assertNotNull(data.apiKeys().find(ApiKeys.API_VERSIONS.id));
    }

    @Test
    void pipelinedRequestsAnswerInOrderAndNoneSendsNothing() throws IOException {
        RequestHeader h1 = new RequestHeader(ApiKeys.HEARTBEAT, (short) 3, "test", 1);
        RequestHeader h2 = new RequestHeader(ApiKeys.HEARTBEAT, (short) 3, "test", 2);
        RequestHeader h3 = new RequestHeader(ApiKeys.HEARTBEAT, (short) 3, "test", 3);
        send(new HeartbeatRequest.Builder(new HeartbeatRequestData().setMemberId("a").setGroupId("g")).build((short) 3)
                .serializeWithHeader(h1));
        send(new HeartbeatRequest.Builder(new HeartbeatRequestData().setMemberId("silent").setGroupId("g"))
                .build((short) 3).serializeWithHeader(h2));
        send(new HeartbeatRequest.Builder(new HeartbeatRequestData().setMemberId("b").setGroupId("g")).build((short) 3)
                .serializeWithHeader(h3));
        var first = (org.apache.kafka.common.requests.HeartbeatResponse) AbstractResponse.parseResponse(receive(), h1);
        assertEquals(Errors.REBALANCE_IN_PROGRESS, first.error());
        ByteBuffer second = receive();
        assertEquals(3, second.getInt(0), "the silent request's slot sends nothing; the next answer follows");
    }

    @Test
    void unknownApiKeyClosesTheConnection() throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(10);
        frame.putShort((short) 999).putShort((short) 0).putInt(1).putShort((short) -1).flip();
        send(frame);
        assertTrue(closedByServer());
    }

    @Test
    void unservedApiClosesTheConnection() throws IOException {
        RequestHeader header = new RequestHeader(ApiKeys.LIST_GROUPS, (short) 4, "test", 5);
        send(new org.apache.kafka.common.requests.ListGroupsRequest.Builder(
                new org.apache.kafka.common.message.ListGroupsRequestData()).build((short) 4).serializeWithHeader(header));
        assertTrue(closedByServer());
    }

    @Test
    void unsupportedVersionOfARoutedApiClosesTheConnection() throws IOException {
        RequestHeader header = new RequestHeader(ApiKeys.HEARTBEAT, (short) 4, "test", 5);
        send(new HeartbeatRequest.Builder(new HeartbeatRequestData().setMemberId("a").setGroupId("g")).build((short) 4)
                .serializeWithHeader(header));
        assertTrue(closedByServer());
    }

    @Test
    void malformedBodyClosesTheConnection() throws IOException {
        // Heartbeat v3 header, then a group id string claiming 300 bytes that are not there
        ByteBuffer frame = ByteBuffer.allocate(14);
        frame.putShort((short) 12).putShort((short) 3).putInt(9).putShort((short) -1).putShort((short) 300)
                .put((byte) 'g').put((byte) 'g').flip();
        send(frame);
        assertTrue(closedByServer());
    }

    /** librdkafka 2.14 sends an all-topics Metadata v9+ with 3 bytes after its body; Kafka ignores them. */
    @Test
    void bytesAfterACompleteBodyAreIgnoredAsKafkaDoes() throws IOException {
        RequestHeader header = new RequestHeader(ApiKeys.HEARTBEAT, (short) 3, "test", 11);
        ByteBuffer request = new HeartbeatRequest.Builder(new HeartbeatRequestData().setMemberId("a").setGroupId("g"))
                .build((short) 3).serializeWithHeader(header);
        ByteBuffer padded = ByteBuffer.allocate(request.remaining() + 3);
        padded.put(request).put((byte) 1).put((byte) 2).put((byte) 3).flip();
        send(padded);
        var response = (org.apache.kafka.common.requests.HeartbeatResponse) AbstractResponse.parseResponse(receive(), header);
        assertEquals(Errors.REBALANCE_IN_PROGRESS, response.error());
    }

    @Test
    void aBodyCutShortStillClosesTheConnection() throws IOException {
        RequestHeader header = new RequestHeader(ApiKeys.HEARTBEAT, (short) 3, "test", 12);
        ByteBuffer request = new HeartbeatRequest.Builder(new HeartbeatRequestData().setMemberId("a").setGroupId("g"))
                .build((short) 3).serializeWithHeader(header);
        request.limit(request.limit() - 1);
        send(request);
        assertTrue(closedByServer());
    }
}
