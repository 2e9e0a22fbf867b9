package kiri.router;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.BigEndian;
import kiri.protocol.Frames;
import kiri.protocol.ProtocolException;
import kiri.protocol.Records;
import kiri.protocol.WireReader;
import kiri.protocol.WireWriter;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.RequestHeader;
import kiri.router.security.Session;
import kiri.router.security.Sessions;
import kiri.storage.api.StorageException;
import kiri.transport.Buffer;
import kiri.transport.ConnectionContext;
import kiri.transport.RequestHandler;
import kiri.transport.Response;

/**
 * The transport's request handler: decodes the request header, finds the route for (api key,
 * version), decodes the body as views over the frame, calls the handler and encodes its answer
 * into a pooled buffer, size first.
 *
 * <p>As Kafka does: a request for an API the broker doesn't serve, a malformed request (bytes after
 * a complete body are not malformed: they are ignored), or an
 * unsupported version of any API but ApiVersions closes the connection; ApiVersions at an
 * unsupported version gets an UNSUPPORTED_VERSION answer in version 0 listing what is supported.
 */
public final class Router implements RequestHandler {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());

    private final RouteTable table;
    private final Runnable endRound;
    private final Sessions sessions;

    /** {@code table} should already carry its layers ({@link RouteTable#wrap}). */
    public Router(RouteTable table) {
        this(table, () -> { });
    }

    /** ... and {@code endRound} runs at the end of each event loop round ({@link RequestHandler#endRound}). */
    public Router(RouteTable table, Runnable endRound) {
        this(table, endRound, Sessions.plaintext("localhost", 0));
    }

    /**
     * ... for the connections of one listener, whose {@code sessions} say who each connection is and admit
     * requests: before SASL authentication only ApiVersions, SaslHandshake and SaslAuthenticate; anything else
     * closes the connection, as Kafka does.
     */
    public Router(RouteTable table, Runnable endRound, Sessions sessions) {
        this.table = table;
        this.endRound = endRound;
        this.sessions = sessions;
    }

    /** The same routes for another listener's connections. */
    public Router forListener(Sessions listenerSessions) {
        return new Router(table, endRound, listenerSessions);
    }

    public Sessions sessions() {
        return sessions;
    }

    @Override
    public void connectionClosed(ConnectionContext connection) {
        sessions.closed(connection);
    }

    @Override
    public void endRound() {
        endRound.run();
    }

    public RouteTable table() {
        return table;
    }

    @Override
    public CompletionStage<Response> handle(ConnectionContext connection, MemorySegment frame) {
        Session session = sessions.session(connection);
        if (session.expectsRawToken()) {
            return CompletableFuture.completedFuture(rawToken(connection, session, frame));
        }
        WireReader reader = new WireReader(frame);
        RequestHeader header;
        try {
            header = Frames.readRequestHeader(reader);
        } catch (ProtocolException e) {
            return close(connection, "malformed request header: " + e.getMessage());
        }
        ApiKey api = ApiKey.forId(header.requestApiKey());
        if (!session.admits(api)) {
            return close(connection, session.refusal(api));
        }
        RouteTable.Route route = table.find(api);
        if (route == null) {
            return close(connection, api.title + " requests are not served by this broker");
        }
        short version = header.requestApiVersion();
        if (!route.supports(version)) {
            if (api == ApiKey.API_VERSIONS) {
                return CompletableFuture.completedFuture(
                        encode(connection, header, api, (short) 0, ApiVersionsHandler.unsupportedVersion(table)));
            }
            return close(connection, api.title + " v" + version + " is not supported (supported: "
                    + route.minVersion() + "-" + route.maxVersion() + ")");
        }
        ApiMessage body;
        try {
            // Bytes left after the body are ignored, as Apache Kafka ignores them: librdkafka 2.14 sends an
            // all-topics Metadata v9+ with 3 spare bytes after it. A body cut short is still malformed.
            body = api.readRequest(reader, version);
        } catch (ProtocolException e) {
            return close(connection, "malformed " + api.title + " v" + version + " request: " + e.getMessage());
        }
        RequestContext context = new RequestContext(connection, header, api, version, System.nanoTime(), session);
        CompletionStage<? extends ApiMessage> answer;
        try {
            answer = route.handler().handle(context, body);
        } catch (StorageException e) {
            // the handler refused the request (e.g. an unknown isolation level): the client's fault, not
            // the broker's, so no stack trace; the close is logged with this reason
            return close(connection, api.title + " v" + version + " request refused: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, api.title + " handler failed", e);
            return close(connection, api.title + " handler failed: " + e);
        }
        return answer.thenApply(response -> {
            Response encoded = response == null ? Response.None.INSTANCE : encode(connection, header, api, version, response);
            // a failed authentication step: the error response is the connection's last
            return session.closeAfterResponse() && encoded instanceof Response.Send(Buffer out)
                    ? new Response.SendAndClose(out) : encoded;
        });
    }

    /**
     * A bare SASL token after SaslHandshake v0, answered with the server's bare token; a failure closes the
     * connection without an answer, as Kafka does in that legacy flow.
     */
    private static Response rawToken(ConnectionContext connection, Session session, MemorySegment frame) {
        Session.Step step = session.authenticate(frame.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        if (step.error() != kiri.protocol.ErrorCode.NONE) {
            return new Response.Close("SASL authentication failed: " + step.message());
        }
        Buffer out = connection.pool().acquire(4 + step.bytes().length);
        out.segment().set(BigEndian.INT, 0, step.bytes().length);
        MemorySegment.copy(MemorySegment.ofArray(step.bytes()), 0, out.segment(), 4, step.bytes().length);
        return new Response.Send(out);
    }

    private static Response encode(ConnectionContext connection, RequestHeader header, ApiKey api, short version,
            ApiMessage response) {
        if (response instanceof Pinned pinned) {
            return encode(connection, header, api, version, pinned);
        }
        Buffer[] buffer = new Buffer[1];
        try {
            Frames.encodeResponse(header.correlationId(), api, version, response, size -> {
                buffer[0] = connection.pool().acquire(size);
                return buffer[0].segment();
            });
        } catch (RuntimeException e) {
            if (buffer[0] != null) {
                buffer[0].close();
            }
            LOG.log(Level.ERROR, "cannot encode " + api.title + " v" + version + " response", e);
            return new Response.Close("cannot encode " + api.title + " response: " + e.getMessage());
        }
        return new Response.Send(buffer[0]);
    }

    /**
     * Encodes into a pooled buffer that leaves out the file regions, then answers the runs of that
     * buffer and the file regions in frame order.
     */
    private static Response encode(ConnectionContext connection, RequestHeader header, ApiKey api, short version,
            Pinned pinned) {
        Buffer[] buffer = new Buffer[1];
        List<Records.Region> parts = new ArrayList<>();
        long[] runStart = {0};
        WireWriter.Splicer splicer = (w, region) -> {
            if (!(region instanceof Records.FileRegion)) {
                return false; // memory: copied into the frame
            }
            parts.add(new Records.Memory(w.segment().asSlice(runStart[0], w.position() - runStart[0])));
            parts.add(region);
            runStart[0] = w.position();
            return true;
        };
        try {
            MemorySegment out = Frames.encodeResponse(header.correlationId(), api, version, pinned.body(), size -> {
                buffer[0] = connection.pool().acquire(size);
                return buffer[0].segment();
            }, pinned.fileBytes(), splicer);
            parts.add(new Records.Memory(out.asSlice(runStart[0])));
        } catch (RuntimeException e) {
            if (buffer[0] != null) {
                buffer[0].close();
            }
            pinned.release().run();
            LOG.log(Level.ERROR, "cannot encode " + api.title + " v" + version + " response", e);
            return new Response.Close("cannot encode " + api.title + " response: " + e.getMessage());
        }
        Buffer frame = buffer[0];
        Runnable release = pinned.release();
        if (pinned.fileBytes() == 0) {
            // every region was in memory and is copied into the frame now: the engine's hold can go at once
            try {
                release.run();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "releasing a " + api.title + " response's records failed", e);
            }
            return new Response.Send(frame);
        }
        return new Response.Parts(parts, () -> {
            try {
                frame.close();
            } finally {
                release.run();
            }
        });
    }

    private static CompletionStage<Response> close(ConnectionContext connection, String reason) {
        // the transport logs the reason when it closes; this line only adds which router decision it was
        LOG.log(Level.DEBUG, "closing connection {0} from {1}: {2}", connection.id(), connection.remoteAddress(), reason);
        return CompletableFuture.completedFuture(new Response.Close(reason));
    }
}
