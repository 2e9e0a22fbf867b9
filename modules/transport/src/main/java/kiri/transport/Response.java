package kiri.transport;

import java.nio.channels.FileChannel;
import java.util.List;
import java.util.Objects;
import kiri.protocol.Records;

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

    /**
     * Send this frame like {@link Send}, then close the connection once it is written (e.g. a failed
     * authentication: the peer gets the error, and nothing it sends afterwards is read).
     */
    record SendAndClose(Buffer frame) implements Response {
        public SendAndClose {
            Objects.requireNonNull(frame, "frame");
        }
    }

    /**
     * Send one response frame made of several parts, written back to back in request order with the
     * other responses: {@link Records.Memory} parts are written like {@link Send} frames,
     * {@link Records.FileRegion} parts go from the file to the socket with {@link FileChannel#transferTo} and never enter the JVM heap. The first part
     * must be memory starting with the 4-byte big-endian size prefix, which must equal the total size
     * of all parts minus 4; otherwise the response is logged and closes the connection.
     *
     * <p>The transport takes ownership: it runs {@code release} exactly once, after the last byte
     * has been written or when the response is discarded (connection closed, malformed). Until then
     * the parts' memory and file ranges must stay valid and unchanged. {@code release} runs on the
     * event loop (or on the thread completing the stage for a connection already closed) and must
     * not block.
     */
    record Parts(List<Records.Region> parts, Runnable release) implements Response {
        public Parts {
            parts = List.copyOf(parts);
            Objects.requireNonNull(release, "release");
        }

        /** Total bytes over all parts, the size prefix included. */
        public long byteSize() {
            long n = 0;
            for (Records.Region p : parts) {
                n += p.byteSize();
            }
            return n;
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
