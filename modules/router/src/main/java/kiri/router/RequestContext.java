package kiri.router;

import kiri.protocol.message.ApiKey;
import kiri.protocol.message.RequestHeader;
import kiri.transport.ConnectionContext;

/** One request as handlers see it: where it came from, its header, API and version. */
public record RequestContext(ConnectionContext connection, RequestHeader header, ApiKey api, short version,
        long receivedNanos) {
    public String clientId() {
        return header.clientId();
    }

    public int correlationId() {
        return header.correlationId();
    }
}
