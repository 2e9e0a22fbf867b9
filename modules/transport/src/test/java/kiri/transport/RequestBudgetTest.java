package kiri.transport;

import static kiri.transport.TestSupport.await;
import static kiri.transport.TestSupport.echo;
import static kiri.transport.TestSupport.local;
import static kiri.transport.TestSupport.request;
import static kiri.transport.TestSupport.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Kafka's {@code queued.max.request.bytes} across connections: frames that do not fit wait (the connection stops
 * reading) and are served once requests in flight give their memory back; nothing fails. And buffers above the
 * pool's classes are freed when closed, not at some later GC.
 */
class RequestBudgetTest {
    private static final int FRAME = 600 << 10;

    private final BufferPool pool = new BufferPool();
    private Server server;
    private Server other;

    @AfterEach
    void tearDown() {
        if (other != null) {
            other.close();
        }
        if (server != null) {
            server.close();
        }
        assertEquals(0, pool.outstanding(), "every request and response buffer was released");
        pool.close();
    }

    /** A handler that holds each answer until the test completes it; frames' sequence numbers in arrival order. */
    private record Holding(List<CompletableFuture<Void>> held, List<Integer> handled, RequestHandler handler) {
        Holding() {
            this(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        }

        private Holding(List<CompletableFuture<Void>> held, List<Integer> handled) {
            this(held, handled, (connection, frame) -> {
                CompletableFuture<Void> answer = new CompletableFuture<>();
                Response r = echo(connection, frame);
                held.add(answer);
                handled.add(seq(frame)); // last: the test reads held once it sees this
                return answer.thenApply(ignored -> r);
            });
        }
    }

    @Test
    void aFrameThatDoesNotFitWaitsForMemoryAndIsThenServed() throws Exception {
        Holding h = new Holding();
        server = Server.start(local(h.handler(), pool).maxQueuedRequestBytes(1 << 20).build());
        secondWaitsForFirst(h, server, server);
    }

    /** Two servers (a broker's listeners) with one budget: a frame on one waits for memory held by the other. */
    @Test
    void serversSharingABudgetShareItsBytes() throws Exception {
        Holding h = new Holding();
        RequestBudget shared = RequestBudget.of(1 << 20);
        server = Server.start(local(h.handler(), pool).requestBudget(shared).build());
        other = Server.start(local(h.handler(), pool).requestBudget(shared).maxQueuedRequestBytes(-1).build());
        secondWaitsForFirst(h, server, other);
        assertEquals(0, shared.reserved());
    }

    /** 600 KiB held through {@code first}, then 600 KiB through {@code second}: over 1 MiB, the second waits. */
    private void secondWaitsForFirst(Holding h, Server first, Server second) throws Exception {
        try (TestSupport.RawClient a = new TestSupport.RawClient(first.localAddress());
                TestSupport.RawClient b = new TestSupport.RawClient(second.localAddress())) {
            byte[] one = request(1, 'E', FRAME);
            byte[] two = request(2, 'E', FRAME);
            a.write(one);
            await("the first frame to reach the handler", () -> h.handled().size() == 1);
            b.write(two);
            int connections = first == second ? 2 : 1;
            await("the second frame to be read up to what the budget allows", () -> first.connectionCount() == connections
                    && second.connectionCount() == connections
                    && first.queuedRequestBytes() == one.length - 4 && second.queuedRequestBytes() == one.length - 4);
            assertEquals(List.of(1), h.handled(), "600 KiB + 600 KiB exceed the 1 MiB budget: the second frame waits");
            h.held().get(0).complete(null); // answers the first request: its 600 KiB come back
            a.expectEcho(one);
            await("the waiting frame to be served", () -> h.handled().size() == 2);
            assertEquals(2, h.handled().get(1));
            h.held().get(1).complete(null);
            b.expectEcho(two);
            await("every reservation to be returned", () -> first.queuedRequestBytes() == 0 && second.queuedRequestBytes() == 0);
        }
    }

    @Test
    void aFrameLargerThanTheBudgetIsServedAlone() throws Exception {
        server = Server.start(local(TestSupport.ECHO, pool).maxQueuedRequestBytes(64 << 10).build());
        try (TestSupport.RawClient client = new TestSupport.RawClient(server.localAddress())) {
            byte[] big = request(7, 'E', 1 << 20);
            client.write(big);
            client.expectEcho(big);
            client.write(big);
            client.expectEcho(big);
        }
        await("every reservation to be returned", () -> server.queuedRequestBytes() == 0);
    }

    /**
     * A frame whose buffer cannot be had (a closed pool here, out of direct memory in production) closes its
     * connection and gives its reservation back: a leaked one would shrink the budget for good, and once it covered
     * the budget every connection would wait forever.
     */
    @Test
    void aFrameWhoseBufferCannotBeAllocatedGivesItsReservationBack() throws Exception {
        BufferPool failing = unpooled();
        server = Server.start(local(TestSupport.ECHO, failing).maxQueuedRequestBytes(1 << 20).build());
        failing.close(); // every acquire fails from now on
        try (TestSupport.RawClient client = new TestSupport.RawClient(server.localAddress())) {
            try {
                client.write(request(1, 'E', FRAME));
            } catch (java.net.SocketException closedWhileWriting) {
                // the server may close as soon as it has read the size and failed to allocate: what is expected
            }
            client.expectClosedByServer();
        }
        await("the frame's reservation to be returned", () -> server.queuedRequestBytes() == 0);
    }

    /**
     * When memory comes back, a waiting connection that fails as it reads on is closed, and the connections waiting
     * behind it on the same loop still get their turn (here: fail and are closed too) instead of waiting forever.
     */
    @Test
    void aWaitingConnectionThatFailsDoesNotStrandTheOthers() throws Exception {
        BufferPool failing = unpooled();
        List<CompletableFuture<Void>> held = new CopyOnWriteArrayList<>();
        server = Server.start(local((connection, frame) -> {
            CompletableFuture<Void> answer = new CompletableFuture<>();
            Response r = echo(connection, frame);
            held.add(answer);
            return answer.thenApply(ignored -> r);
        }, failing).eventLoops(1).maxQueuedRequestBytes(1 << 20).build());
        try (TestSupport.RawClient a = new TestSupport.RawClient(server.localAddress());
                TestSupport.RawClient b = new TestSupport.RawClient(server.localAddress());
                TestSupport.RawClient c = new TestSupport.RawClient(server.localAddress())) {
            a.write(request(1, 'E', FRAME));
            await("the first frame to reach the handler", () -> held.size() == 1);
            b.write(request(2, 'E', FRAME));
            c.write(request(3, 'E', FRAME));
            // a's request and response, and the bytes b and c sent before their frames stopped at the budget
            await("b and c to wait for memory", () -> failing.outstanding() == 4);
            failing.close(); // what b and c read next cannot be allocated
            held.get(0).complete(null);
            b.expectClosedByServer();
            c.expectClosedByServer();
        }
        await("every reservation to be returned", () -> server.queuedRequestBytes() == 0);
    }

    /** A pool that pools nothing: closing it makes acquire fail and leaves the buffers handed out usable. */
    private static BufferPool unpooled() {
        return new BufferPool(64, 4 << 20, 0);
    }

    @Test
    void buffersAboveTheLargestClassAreFreedWhenClosed() {
        Buffer large = pool.acquire(pool.largestClass() + 1);
        MemorySegment segment = large.segment();
        segment.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        large.close();
        // its arena is closed with it: the memory went back at once (using it now fails instead of reading freed memory)
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
        assertTrue(pool.outstandingBytes() == 0, "nothing outstanding");
    }
}
