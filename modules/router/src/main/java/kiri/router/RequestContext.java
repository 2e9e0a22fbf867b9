package kiri.router;

import kiri.protocol.message.ApiKey;
import kiri.protocol.message.RequestHeader;
import kiri.router.security.KafkaPrincipal;
import kiri.router.security.Session;
import kiri.transport.ConnectionContext;

/**
 * One request as handlers see it: where it came from, its header, API and version, and the connection's
 * {@link Session} (who it is authenticated as, through which listener).
 */
public record RequestContext(ConnectionContext connection, RequestHeader header, ApiKey api, short version,
        long receivedNanos, Session session) {

    /** A request with no listener behind it (tests): ANONYMOUS. */
    public RequestContext(ConnectionContext connection, RequestHeader header, ApiKey api, short version,
            long receivedNanos) {
        this(connection, header, api, version, receivedNanos, Session.anonymous());
    }

    public String clientId() {
        return header.clientId();
    }

    public int correlationId() {
        return header.correlationId();
    }

    /** Who the connection is authenticated as. */
    public KafkaPrincipal principal() {
        return session.principal();
    }
}
