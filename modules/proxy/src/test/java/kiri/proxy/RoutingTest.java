package kiri.proxy;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import kiri.protocol.Frames;
import kiri.protocol.WireReader;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.MetadataResponse;
import kiri.protocol.message.RequestHeader;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;
import kiri.transport.ClientConnection;
import kiri.transport.ConnectionContext;
import kiri.transport.RequestHandler;
import kiri.transport.Response;
import kiri.transport.Server;
import kiri.transport.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A fake two-broker origin (kiri transport servers answering raw frames): requests reach the
 * broker whose proxy listener they arrive on, acks=0 produce keeps the connection in step, origin
 * connections are reused, and a vanished origin closes the client connection instead of hanging.
 */
class RoutingTest {
    /** Only to avoid hanging forever; no test depends on how fast anything is. */
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    /** Origin broker {@code nodeId}: Metadata names both fake brokers; other requests echo the node id. */
    private final class FakeBroker implements RequestHandler {
        final int nodeId;
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger produces = new AtomicInteger();
        Server server;

        FakeBroker(int nodeId) {
            this.nodeId = nodeId;
        }

        FakeBroker start(int port) throws IOException {
            server = Server.start(ServerConfig.builder(this).bind("127.0.0.1", port).eventLoops(1)
                    .shutdownTimeout(Duration.ofSeconds(1)).build());
            return this;
        }

        int port() {
            return server.localAddress().getPort();
        }

        @Override
        public void connectionOpened(ConnectionContext connection) {
            connections.incrementAndGet();
        }

        @Override
        public CompletableFuture<Response> handle(ConnectionContext c, MemorySegment frame) {
            WireReader r = new WireReader(frame);
            RequestHeader h = Frames.readRequestHeader(r);
            short api = h.requestApiKey();
            if (api == ApiKey.PRODUCE.id) {
                produces.incrementAndGet(); // this test only sends acks=0 produce
                return CompletableFuture.completedFuture(Response.None.INSTANCE);
            }
            if (api == ApiKey.METADATA.id) {
                MetadataResponse m = new MetadataResponse().setControllerId(1);
                for (FakeBroker b : brokers) {
                    m.brokers().add(new MetadataResponse.MetadataResponseBroker().setNodeId(b.nodeId)
                            .setHost("127.0.0.1").setPort(b.port()));
                }
                Buffer[] out = new Buffer[1];
                Frames.encodeResponse(h.correlationId(), ApiKey.METADATA, h.requestApiVersion(), m, n -> {
                    out[0] = c.pool().acquire(n);
                    return out[0].segment();
                });
                return CompletableFuture.completedFuture(new Response.Send(out[0]));
            }
            if (api == ApiKey.DESCRIBE_CONFIGS.id) { // echo: correlation id, then the whole request frame
                Buffer out = c.pool().acquire(8 + frame.byteSize());
                out.segment().set(INT, 0, (int) (4 + frame.byteSize()));
                out.segment().set(INT, 4, h.correlationId());
                MemorySegment.copy(frame, 0, out.segment(), 8, frame.byteSize());
                return CompletableFuture.completedFuture(new Response.Send(out));
            }
            Buffer out = c.pool().acquire(12); // size, correlation id, node id: a v0-header response
            out.segment().set(INT, 0, 8);
            out.segment().set(INT, 4, h.correlationId());
            out.segment().set(INT, 8, nodeId);
            return CompletableFuture.completedFuture(new Response.Send(out));
        }
    }

    private final BufferPool pool = new BufferPool();
    private List<FakeBroker> brokers;
    private Proxy proxy;

    @BeforeEach
    void start() throws IOException {
        brokers = List.of(new FakeBroker(1).start(0), new FakeBroker(2).start(0));
        proxy = Proxy.start(ProxyConfig.of(new InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0,
                List.of(InetSocketAddress.createUnresolved("127.0.0.1", brokers.get(0).port()))));
    }

    @AfterEach
    void stop() {
        proxy.close();
        brokers.forEach(b -> b.server.close());
        pool.close();
    }

    /** A request frame with its size prefix: v1 header (no tagged fields), then {@code body}. */
    private Buffer request(ApiKey api, short version, int correlationId, byte[] body) {
        int size = 2 + 2 + 4 + 2 + body.length;
        Buffer b = pool.acquire(4 + size);
        MemorySegment s = b.segment();
        s.set(INT, 0, size);
        s.set(SHORT, 4, api.id);
        s.set(SHORT, 6, version);
        s.set(INT, 8, correlationId);
        s.set(SHORT, 12, (short) -1); // null client id
        MemorySegment.copy(MemorySegment.ofArray(body), 0, s, 14, body.length);
        return b;
    }

    private ClientConnection connect(int port) throws IOException {
        return ClientConnection.connect("127.0.0.1", port, PATIENCE, pool);
    }

    /** Sends a pass-through request and returns {correlation id, node id that answered}. */
    private int[] echo(ClientConnection c, int correlationId) throws Exception {
        try (Buffer response = c.send(request(ApiKey.LIST_OFFSETS, (short) 1, correlationId, new byte[0]), true)
                .get(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            MemorySegment s = response.segment();
            return new int[] {s.get(INT, 0), s.get(INT, 4)};
        }
    }

    private MetadataResponse metadata(ClientConnection c) throws Exception {
        byte[] allTopics = {-1, -1, -1, -1}; // v1: null topic array
        try (Buffer response = c.send(request(ApiKey.METADATA, (short) 1, 9, allTopics), true)
                .get(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            return (MetadataResponse) Frames.readResponse(response.segment(), ApiKey.METADATA, (short) 1, 9);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void eachOriginBrokerGetsItsOwnProxyListener() throws Exception {
        MetadataResponse m;
        try (ClientConnection c = connect(proxy.localAddress().getPort())) {
            m = metadata(c);
        }
        Map<Integer, InetSocketAddress> listeners = proxy.brokerListeners();
        assertEquals(List.of(1, 2), List.copyOf(listeners.keySet()));
        assertEquals(2, m.brokers().size());
        for (var b : m.brokers()) {
            assertEquals("127.0.0.1", b.host());
            assertEquals(listeners.get(b.nodeId()).getPort(), b.port(), "node " + b.nodeId());
            assertNotEquals(brokers.get(b.nodeId() - 1).port(), b.port(), "not the origin's own port");
        }
        for (var b : m.brokers()) {
            try (ClientConnection c = connect(b.port())) {
                int[] answer = echo(c, 1000 + b.nodeId());
                assertEquals(1000 + b.nodeId(), answer[0], "correlation id passes through");
                assertEquals(b.nodeId(), answer[1], "answered by the broker the listener stands for");
            }
        }
    }

    @Test
    void bigPipelinedFramesArriveWholeAndInOrder() throws Exception {
        java.util.Random random = new java.util.Random(42);
        List<byte[]> bodies = new java.util.ArrayList<>();
        List<CompletableFuture<Buffer>> responses = new java.util.ArrayList<>();
        try (ClientConnection c = connect(proxy.localAddress().getPort())) {
            for (int i = 0; i < 40; i++) {
                // mostly small, some of several MB: those fill socket buffers on both sides of the proxy
                byte[] body = new byte[i % 10 == 3 ? (3 << 20) + random.nextInt(1 << 20) : random.nextInt(5000)];
                random.nextBytes(body);
                bodies.add(body);
                responses.add(c.send(request(ApiKey.DESCRIBE_CONFIGS, (short) 1, 100 + i, body), true));
            }
            for (int i = 0; i < bodies.size(); i++) {
                try (Buffer r = responses.get(i).get(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                    MemorySegment s = r.segment();
                    assertEquals(100 + i, s.get(INT, 0), "response " + i + " in order");
                    byte[] body = bodies.get(i);
                    assertEquals(4 + 10 + body.length, s.byteSize(), "whole frame " + i);
                    assertEquals(-1, s.asSlice(4 + 10).mismatch(MemorySegment.ofArray(body)), "bytes of frame " + i);
                }
            }
        }
    }

    @Test
    void bootstrapSkipsAnUnreachableOrigin() throws Exception {
        int deadPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        try (Proxy p = Proxy.start(ProxyConfig.of(new InetSocketAddress("127.0.0.1", 0), "127.0.0.1", 0,
                List.of(InetSocketAddress.createUnresolved("127.0.0.1", deadPort),
                        InetSocketAddress.createUnresolved("127.0.0.1", brokers.get(1).port()))))) {
            for (int i = 0; i < 3; i++) { // whichever origin the rotation tries first
                try (ClientConnection c = connect(p.localAddress().getPort())) {
                    assertEquals(2, echo(c, i)[1], "answered by the live origin");
                }
            }
        }
    }

    @Test
    void acksZeroProduceGetsNoResponseAndLaterResponsesStayMatched() throws Exception {
        // acks=0, no transactional id (v3+ puts it before acks): null string, then acks, timeout, no topics
        byte[] produceBody = {-1, -1, 0, 0, 0, 0, 3, -24, 0, 0, 0, 0};
        try (ClientConnection c = connect(proxy.localAddress().getPort())) {
            for (int i = 0; i < 3; i++) {
                assertNull(c.send(request(ApiKey.PRODUCE, (short) 8, 500 + i, produceBody), false)
                        .get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
            }
            int[] answer = echo(c, 777);
            assertEquals(777, answer[0], "the response after acks=0 produces is the echo's own");
            assertEquals(1, answer[1]);
        }
        assertEquals(3, brokers.get(0).produces.get());
    }

    @Test
    void originConnectionsAreReusedAcrossClientConnections() throws Exception {
        int port = proxy.localAddress().getPort();
        for (int i = 0; i < 5; i++) {
            try (ClientConnection c = connect(port)) {
                assertEquals(1, echo(c, i)[1]);
            }
            await(() -> proxy.idleOriginConnections() == 1, "the origin connection back in the pool");
        }
        assertEquals(1, brokers.get(0).connections.get(), "five clients in turn, one origin connection");
    }

    @Test
    void originGoneClosesTheClientConnectionAndTheNextRequestReconnects() throws Exception {
        FakeBroker origin = brokers.get(0);
        int originPort = origin.port();
        try (ClientConnection c = connect(proxy.localAddress().getPort())) {
            assertEquals(1, echo(c, 1)[1]);
            origin.server.close();
            await(() -> !isOpenFor(c), "the proxy closing the client connection after a failed request");
        }
        try (ClientConnection c = connect(proxy.localAddress().getPort())) {
            // nothing listens: the client connection is closed rather than left waiting
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> echo(c, 2));
            assertTrue(e.getCause() instanceof IOException, e.toString());
        }
        origin.start(originPort);
        try (ClientConnection c = connect(proxy.localAddress().getPort())) {
            assertEquals(1, echo(c, 3)[1], "the proxy connects again once the origin is back");
        }
    }

    /** Sends echoes until one fails: the proxy notices a dead origin on the first request after it died. */
    private boolean isOpenFor(ClientConnection c) {
        try {
            echo(c, 5);
            return true;
        } catch (Exception e) {
            assertNotNull(e.getCause());
            return false;
        }
    }

    @Test
    void anIdleLinkReconnectsWhenTheOriginRestartedBetweenRequests() throws Exception {
        FakeBroker origin = brokers.get(0);
        int originPort = origin.port();
        try (ClientConnection c = connect(proxy.localAddress().getPort())) {
            assertEquals(1, echo(c, 1)[1]);
            assertEquals(1, proxy.connectedOriginLinks());
            origin.server.close();
            await(() -> proxy.connectedOriginLinks() == 0, "the proxy noticing the origin closed the idle connection");
            origin.start(originPort);
            int[] answer = echo(c, 2); // same client connection, new origin connection
            assertEquals(2, answer[0]);
            assertEquals(1, answer[1]);
            assertEquals(2, origin.connections.get(), "one origin connection before the restart, one after");
        }
    }
}
