package kiri.proxy;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import kiri.transport.Buffer;
import kiri.transport.LoopContext;

/**
 * The origin side of one client connection: its own origin connection, so the origin answers in
 * the client's request order and one client's slow request (a long-polling Fetch) never delays
 * another client. Correlation ids therefore pass through unchanged. The origin connection is served
 * by the client connection's event loop, so a response goes back to the client from the thread
 * that read it.
 *
 * <p>Connecting (or borrowing from the pool) happens off the event loop; requests that arrive
 * meanwhile wait in order and are sent once connected. If the origin connection dies, requests in
 * flight fail (the client connection is then closed, and Kafka clients retry); the next request
 * connects again.
 *
 * <p>Confined to the client connection's event loop ({@link #send}, {@link #close} and the connect
 * result all run there), except {@link #connected()}.
 */
final class OriginLink {
    private record Waiting(Buffer frame, boolean expectResponse, CompletableFuture<Buffer> future) {
    }

    private final Supplier<List<Endpoint>> targets;
    private final OriginPool origins;
    private final Executor connector;
    private final LoopContext loop;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private volatile OriginConnection connection;
    private Endpoint endpoint;
    private boolean connecting;
    private boolean closed;

    /**
     * @param targets the origins to try, in order, each time a connection is needed
     * @param loop the client connection's event loop
     */
    OriginLink(Supplier<List<Endpoint>> targets, OriginPool origins, Executor connector, LoopContext loop) {
        this.targets = targets;
        this.origins = origins;
        this.connector = connector;
        this.loop = loop;
    }

    /**
     * Sends a request frame (with its size prefix; ownership moves here) and returns the response
     * frame with its prefix, {@code null} if none is expected, or fails with an IOException.
     */
    CompletableFuture<Buffer> send(Buffer frame, boolean expectResponse) {
        if (closed) {
            frame.close();
            return CompletableFuture.failedFuture(new IOException("client connection closed"));
        }
        OriginConnection c = connection;
        if (!connecting && c != null && c.isOpen()) {
            return c.send(frame, expectResponse);
        }
        Waiting w = new Waiting(frame, expectResponse, new CompletableFuture<>());
        waiting.add(w);
        if (!connecting) {
            connecting = true;
            connection = null;
            if (c != null) {
                c.close();
            }
            connector.execute(this::connect);
        }
        return w.future();
    }

    /** On the connector: borrows or opens a connection, then hands it to the loop. */
    private void connect() {
        OriginConnection opened = null;
        Endpoint to = null;
        IOException failure = null;
        for (Endpoint candidate : targets.get()) {
            if (candidate == null) {
                continue;
            }
            try {
                opened = origins.borrow(candidate);
                to = candidate;
                break;
            } catch (IOException e) {
                failure = failure == null ? e : failure;
                Proxy.LOG.log(System.Logger.Level.DEBUG, "origin {0}: {1}", candidate, e.getMessage());
            }
        }
        if (opened == null && failure == null) {
            failure = new IOException("no origin address known");
        }
        OriginConnection result = opened;
        Endpoint resultEndpoint = to;
        IOException resultFailure = failure;
        loop.execute(() -> connected(result, resultEndpoint, resultFailure));
    }

    private void connected(OriginConnection opened, Endpoint to, IOException failure) {
        connecting = false;
        if (opened != null && closed) {
            origins.giveBack(to, opened);
            failure = new IOException("client connection closed");
            opened = null;
        }
        if (opened != null) {
            try {
                opened.attach(loop);
            } catch (IOException | RuntimeException e) {
                opened.close();
                failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
                opened = null;
            }
        }
        if (opened == null) {
            for (Waiting w; (w = waiting.poll()) != null; ) {
                w.frame().close();
                w.future().completeExceptionally(failure);
            }
            return;
        }
        connection = opened;
        endpoint = to;
        for (Waiting w; (w = waiting.poll()) != null; ) {
            CompletableFuture<Buffer> target = w.future();
            opened.send(w.frame(), w.expectResponse()).whenComplete((response, error) -> {
                if (error != null) {
                    target.completeExceptionally(error);
                } else if (!target.complete(response) && response != null) {
                    response.close();
                }
            });
        }
    }

    /** True while an origin connection is open (tests, monitoring). Any thread. */
    boolean connected() {
        OriginConnection c = connection;
        return c != null && c.isOpen();
    }

    /**
     * The client connection closed: an origin connection with nothing in flight goes back to the
     * pool, one with requests in flight is closed (their late responses have nowhere to go).
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        OriginConnection c = connection;
        connection = null;
        if (c == null) {
            return;
        }
        if (c.isOpen() && c.idle()) {
            c.detach();
            origins.giveBack(endpoint, c);
        } else {
            c.close();
        }
    }
}
