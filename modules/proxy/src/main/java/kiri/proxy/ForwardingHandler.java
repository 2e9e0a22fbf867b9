package kiri.proxy;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import kiri.protocol.BigEndian;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;
import kiri.transport.ConnectionContext;
import kiri.transport.RequestHandler;
import kiri.transport.Response;

/**
 * One proxy listener's handler: forwards each request frame to the origin over the client
 * connection's {@link OriginLink} and returns the origin's response, rewritten by
 * {@link Rewriter} where it names brokers. Reads only the api key and version (and a Produce
 * request's acks). Everything runs on the client connection's event loop, which also serves its
 * origin connection: a response is completed, rewritten and written back by the thread that read it.
 */
final class ForwardingHandler implements RequestHandler {
    private final Supplier<List<Endpoint>> targets;
    private final OriginPool origins;
    private final java.util.concurrent.Executor connector;
    private final Rewriter.AddressMap addresses;
    private final BufferPool pool;
    private final ConcurrentHashMap<Long, OriginLink> links = new ConcurrentHashMap<>();

    ForwardingHandler(Supplier<List<Endpoint>> targets, OriginPool origins, java.util.concurrent.Executor connector,
            Rewriter.AddressMap addresses, BufferPool pool) {
        this.targets = targets;
        this.origins = origins;
        this.connector = connector;
        this.addresses = addresses;
        this.pool = pool;
    }

    /** Client connections whose origin connection is open right now. */
    int connectedLinks() {
        return (int) links.values().stream().filter(OriginLink::connected).count();
    }

    @Override
    public void connectionOpened(ConnectionContext connection) {
        links.put(connection.id(), new OriginLink(targets, origins, connector, connection.loop()));
    }

    @Override
    public void connectionClosed(ConnectionContext connection) {
        OriginLink link = links.remove(connection.id());
        if (link != null) {
            link.close();
        }
    }

    @Override
    public CompletionStage<Response> handle(ConnectionContext connection, MemorySegment frame) {
        long size = frame.byteSize();
        if (size < Requests.MIN_HEADER) {
            return CompletableFuture.completedFuture(new Response.Close("request frame of " + size + " bytes"));
        }
        OriginLink link = links.get(connection.id());
        if (link == null) {
            return CompletableFuture.completedFuture(new Response.Close("connection closed"));
        }
        short apiKey = Requests.apiKey(frame);
        short version = Requests.apiVersion(frame);
        boolean expectResponse;
        try {
            expectResponse = Requests.expectsResponse(frame);
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(new Response.Close("malformed produce request: " + e.getMessage()));
        }
        Buffer request = pool.acquire(Integer.BYTES + size);
        request.segment().set(BigEndian.INT, 0, (int) size);
        MemorySegment.copy(frame, 0, request.segment(), Integer.BYTES, size);
        return link.send(request, expectResponse).handle((response, error) -> respond(apiKey, version, response, error));
    }

    private Response respond(short apiKey, short version, Buffer response, Throwable error) {
        if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            Proxy.LOG.log(Level.DEBUG, "origin failed: {0}", cause.toString());
            return new Response.Close("origin: " + cause.getMessage());
        }
        if (response == null) {
            return Response.None.INSTANCE; // acks=0 produce
        }
        try {
            if (Rewriter.rewrites(apiKey, version)) {
                MemorySegment body = response.segment().asSlice(Integer.BYTES);
                Buffer rewritten = Rewriter.rewrite(apiKey, version, body, addresses, pool);
                if (rewritten != null) {
                    response.close();
                    return new Response.Send(rewritten);
                }
            }
            return new Response.Send(response); // already carries its size prefix: no copy
        } catch (RuntimeException e) {
            response.close();
            Proxy.LOG.log(Level.WARNING, "cannot rewrite response to api key {0} v{1}: {2}", apiKey, version, e.toString());
            return new Response.Close("cannot rewrite response: " + e.getMessage());
        }
    }
}
