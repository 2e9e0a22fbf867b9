package kiri.transport;

import java.util.Objects;

/** What a {@link RequestHandler} answers to one request frame. */
public sealed interface Response {

    /**
     * Send these bytes. {@code frame} holds the COMPLETE response frame including its 4-byte
     * big-endian size prefix, written by the handler; the transport takes ownership, writes it in
     * request order and closes it. A prefix that does not match the buffer size is logged and closes
     * the connection instead (sending it would desynchronise the peer).
     */
    record Send(Buffer frame) implements Response {
        public Send {
            Objects.requireNonNull(frame, "frame");
        }
    }

    /** Send nothing (e.g. Kafka produce with acks=0) but keep the ordering slot. */
    record None() implements Response {
        /** Shared instance: the record has no state. */
        public static final None INSTANCE = new None();
    }

    /**
     * Close the connection after the responses before it are written (e.g. unknown api key).
     * Responses to later requests on the connection are discarded.
     */
    record Close(String reason) implements Response {
        public Close {
            Objects.requireNonNull(reason, "reason");
        }
    }
}
