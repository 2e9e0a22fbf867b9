package kiri.proxy;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import kiri.transport.Buffer;

/**
 * The origin side of one client connection: its own origin connection, so the origin answers in
 * the client's request order and one client's slow request (a long-polling Fetch) never delays
 * another client. Correlation ids therefore pass through unchanged.
 *
 * <p>Connecting happens off the event loop; requests that arrive meanwhile wait in order and are
 * sent once connected. If the origin connection dies, requests in flight fail (the client
 * connection is then closed, and Kafka clients retry); the next request connects again.
 *
 * <p>Thread-safe: {@link #send} is called on the client connection's event loop, {@link #close}
 * when it closes, completions arrive on origin connection threads.
 */
final class OriginLink {
    private record Waiting(Buffer frame, boolean expectResponse, CompletableFuture<Buffer> future) {
    }

    private final Supplier<List<Endpoint>> targets;
    private final OriginPool origins;
    private final Executor connector;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private OriginIo.Connection connection;
    private Endpoint endpoint;
    /** The last request sent: responses come in order, so once it is done nothing is in flight. */
    private CompletableFuture<Buffer> last;
    private boolean connecting;
    private boolean closed;

    /**
     * @param targets the origins to try, in order, each time a connection is needed
     */
    OriginLink(Supplier<List<Endpoint>> targets, OriginPool origins, Executor connector) {
        this.targets = targets;
        this.origins = origins;
        this.connector = connector;
    }

    /**
     * Sends a request frame (with its size prefix; ownership moves here) and returns the response
     * frame without its prefix, {@code null} if none is expected, or fails with an IOException.
     */
    synchronized CompletableFuture<Buffer> send(Buffer frame, boolean expectResponse) {
        if (closed) {
            frame.close();
            return CompletableFuture.failedFuture(new IOException("client connection closed"));
        }
        if (!connecting && connection != null && connection.isOpen()) {
            return last = connection.send(frame, expectResponse);
        }
        Waiting w = new Waiting(frame, expectResponse, new CompletableFuture<>());
        waiting.add(w);
        if (!connecting) {
            connecting = true;
            OriginIo.Connection dead = connection;
            connection = null;
            connector.execute(() -> connect(dead));
        }
        return last = w.future();
    }

    private void connect(OriginIo.Connection dead) {
        if (dead != null) {
            dead.close();
        }
        OriginIo.Connection opened = null;
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
        synchronized (this) {
            connecting = false;
            if (opened == null || closed) {
                IOException cause = opened == null ? failure : new IOException("client connection closed");
                for (Waiting w; (w = waiting.poll()) != null; ) {
                    w.frame().close();
                    w.future().completeExceptionally(cause);
                }
                if (opened != null) {
                    origins.giveBack(to, opened);
                }
                return;
            }
            connection = opened;
            endpoint = to;
            for (Waiting w; (w = waiting.poll()) != null; ) {
                CompletableFuture<Buffer> target = w.future();
                connection.send(w.frame(), w.expectResponse()).whenComplete((response, error) -> {
                    if (error != null) {
                        target.completeExceptionally(error);
                    } else if (!target.complete(response) && response != null) {
                        response.close();
                    }
                });
            }
        }
    }

    /** True while an origin connection is open (tests, monitoring). */
    synchronized boolean connected() {
        return connection != null && connection.isOpen();
    }

    /**
     * The client connection closed: an origin connection with nothing in flight goes back to the
     * pool, one with requests in flight is closed (their late responses have nowhere to go).
     */
    void close() {
        OriginIo.Connection c;
        Endpoint e;
        boolean idle;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            c = connection;
            e = endpoint;
            connection = null;
            idle = last == null || last.isDone();
        }
        if (c == null) {
            return;
        }
        if (idle) {
            origins.giveBack(e, c);
        } else {
            connector.execute(c::close); // joins its threads: not on the event loop
        }
    }
}
