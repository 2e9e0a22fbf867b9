package kiri.transport;

import static kiri.transport.TestSupport.ECHO;
import static kiri.transport.TestSupport.PATIENCE;
import static kiri.transport.TestSupport.await;
import static kiri.transport.TestSupport.body;
import static kiri.transport.TestSupport.bytes;
import static kiri.transport.TestSupport.command;
import static kiri.transport.TestSupport.echo;
import static kiri.transport.TestSupport.local;
import static kiri.transport.TestSupport.pooledFrame;
import static kiri.transport.TestSupport.seq;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClientConnectionTest {
    private final BufferPool serverPool = new BufferPool();
    private final BufferPool clientPool = new BufferPool();
    private final ScheduledExecutorService delays = Executors.newScheduledThreadPool(2);
    private Server server;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (server != null) {
            server.close();
        }
        delays.shutdownNow();
        assertTrue(delays.awaitTermination(10, TimeUnit.SECONDS));
        assertEquals(0, serverPool.outstanding(), "server released every buffer");
        assertEquals(0, clientPool.outstanding(), "client released every buffer");
        serverPool.close();
        clientPool.close();
    }

    private ClientConnection connect(RequestHandler handler) throws IOException {
        server = Server.start(local(handler, serverPool).build());
        return ClientConnection.connect("127.0.0.1", server.localAddress().getPort(), Duration.ofSeconds(10), clientPool);
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    void pipelinedRequestsGetTheirOwnResponsesInOrder() throws Exception {
        // Random delays complete the server's stages out of order.
        RequestHandler handler = (connection, frame) -> {
            Response r = echo(connection, frame);
            if (ThreadLocalRandom.current().nextInt(4) == 0) {
                return CompletableFuture.completedFuture(r);
            }
            CompletableFuture<Response> f = new CompletableFuture<>();
            delays.schedule(() -> f.complete(r), ThreadLocalRandom.current().nextInt(300), TimeUnit.MICROSECONDS);
            return f;
        };
        int count = 20_000;
        AtomicInteger completed = new AtomicInteger();
        AtomicInteger completedBeforePredecessor = new AtomicInteger();
        try (ClientConnection client = connect(handler)) {
            List<CompletableFuture<Buffer>> futures = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                CompletableFuture<Buffer> f = client.send(pooledFrame(clientPool, body(i, 'E', i % 40)), true);
                CompletableFuture<Buffer> predecessor = i == 0 ? null : futures.get(i - 1);
                // Race-free order check (the action may run on this thread or the reader's):
                // when a future completes, the one sent before it must already be done.
                f.thenRun(() -> {
                    if (predecessor != null && !predecessor.isDone()) {
                        completedBeforePredecessor.incrementAndGet();
                    }
                    completed.incrementAndGet();
                });
                futures.add(f);
            }
            for (int i = 0; i < count; i++) {
                byte[] response = bytes(get(futures.get(i)));
                assertArrayEquals(body(i, 'E', i % 40), response, "response " + i);
            }
        }
        await("all completion actions to run", () -> completed.get() == count);
        assertEquals(0, completedBeforePredecessor.get(), "futures complete in request order");
    }

    @Test
    void concurrentSendersEachGetTheirOwnResponse() throws Exception {
        try (ClientConnection client = connect(ECHO);
                ExecutorService senders = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(senders.submit(() -> {
                    List<CompletableFuture<Buffer>> futures = new ArrayList<>();
                    for (int i = 0; i < 3000; i++) {
                        futures.add(client.send(pooledFrame(clientPool, body(thread * 1_000_000 + i, 'E', i % 13)), true));
                    }
                    for (int i = 0; i < futures.size(); i++) {
                        assertArrayEquals(body(thread * 1_000_000 + i, 'E', i % 13), bytes(get(futures.get(i))));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
    }

    @Test
    void largeResponsesArriveIntact() throws Exception {
        try (ClientConnection client = connect(ECHO)) {
            for (int padding : new int[] {65_530, 65_531, 300_000, 5 << 20}) {
                byte[] body = body(padding, 'E', padding);
                assertArrayEquals(body, bytes(get(client.send(pooledFrame(clientPool, body), true))));
            }
        }
    }

    @Test
    void requestsWithoutResponseCompleteWithNullOnceWritten() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        RequestHandler handler = (connection, frame) -> {
            handled.incrementAndGet();
            return CompletableFuture.completedFuture(
                    command(frame) == 'N' ? Response.None.INSTANCE : echo(connection, frame));
        };
        try (ClientConnection client = connect(handler)) {
            List<CompletableFuture<Buffer>> futures = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                boolean none = i % 3 == 1;
                futures.add(client.send(pooledFrame(clientPool, body(i, none ? 'N' : 'S', 0)), !none));
            }
            for (int i = 0; i < 100; i++) {
                Buffer response = get(futures.get(i));
                if (i % 3 == 1) {
                    assertNull(response);
                } else {
                    assertEquals(i, seq(bytes(response)));
                }
            }
        }
        assertEquals(100, handled.get(), "the unanswered requests reached the server too");
    }

    @Test
    void closeFailsPendingRequests() throws Exception {
        AtomicInteger handled = new AtomicInteger();
        List<Runnable> held = new CopyOnWriteArrayList<>();
        RequestHandler handler = (connection, frame) -> {
            handled.incrementAndGet();
            CompletableFuture<Response> f = new CompletableFuture<>();
            held.add(() -> f.complete(Response.None.INSTANCE)); // releases the server's buffers later
            return f;
        };
        ClientConnection client = connect(handler);
        List<CompletableFuture<Buffer>> pending = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pending.add(client.send(pooledFrame(clientPool, body(i, 'S', 0)), true));
        }
        await("the server to receive the requests", () -> handled.get() == 3);
        client.close();
        assertFalse(client.isOpen());
        for (CompletableFuture<Buffer> f : pending) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> get(f));
            assertInstanceOf(IOException.class, e.getCause());
        }
        ExecutionException late = assertThrows(ExecutionException.class,
                () -> get(client.send(pooledFrame(clientPool, body(9, 'S', 0)), true)));
        assertInstanceOf(IOException.class, late.getCause());
        held.forEach(Runnable::run);
    }

    @Test
    void serverClosingTheConnectionFailsWhatIsLeft() throws Exception {
        RequestHandler handler = (connection, frame) -> CompletableFuture.completedFuture(
                command(frame) == 'C' ? new Response.Close("test") : echo(connection, frame));
        try (ClientConnection client = connect(handler)) {
            CompletableFuture<Buffer> first = client.send(pooledFrame(clientPool, body(0, 'S', 0)), true);
            CompletableFuture<Buffer> closing = client.send(pooledFrame(clientPool, body(1, 'C', 0)), true);
            assertEquals(0, seq(bytes(get(first))));
            ExecutionException e = assertThrows(ExecutionException.class, () -> get(closing));
            assertInstanceOf(IOException.class, e.getCause());
            await("the client to notice", () -> !client.isOpen());
        }
    }

    @Test
    void malformedRequestFramesAreRejected() throws Exception {
        try (ClientConnection client = connect(ECHO)) {
            Buffer bad = clientPool.acquire(8);
            bad.segment().set(TestSupport.INT_BE, 0, 5); // says 5, holds 4
            ExecutionException e = assertThrows(ExecutionException.class, () -> get(client.send(bad, true)));
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertTrue(client.isOpen(), "the connection is still usable");
            assertEquals(3, seq(bytes(get(client.send(pooledFrame(clientPool, body(3, 'S', 0)), true)))));
        }
    }

    @Test
    void connectingToAClosedPortIsAClearError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ConnectException e = assertThrows(ConnectException.class,
                () -> ClientConnection.connect("127.0.0.1", port, Duration.ofSeconds(5), clientPool));
        assertTrue(e.getMessage().startsWith("cannot connect to 127.0.0.1:" + port), e.getMessage());
    }
}
