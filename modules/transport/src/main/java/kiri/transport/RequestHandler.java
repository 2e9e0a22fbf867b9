package kiri.transport;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletionStage;

/**
 * The router's entry point: called by the {@link Server} for every complete request frame.
 *
 * <p>Threading: every method runs on the connection's event-loop thread and must not block; slow
 * work goes elsewhere and completes the returned stage later, from any thread. One handler
 * instance serves all connections of a server, concurrently from several event loops.
 */
@FunctionalInterface
public interface RequestHandler {

    /**
     * Handles one request.
     *
     * @param connection the connection the frame arrived on
     * @param frame request bytes WITHOUT the 4-byte size prefix: a view of a pooled buffer that stays
     *     valid until the returned stage completes; then the transport releases it, so a handler
     *     copies whatever it keeps beyond that point
     * @return the response. Responses are written in request order per connection even if stages
     *     complete out of order. A stage completing exceptionally (likewise a {@code null} stage or
     *     result, or an exception thrown here) is logged and closes the connection after the
     *     responses before it are written.
     */
    CompletionStage<Response> handle(ConnectionContext connection, MemorySegment frame);

    /** A connection was accepted; called before its first {@link #handle}. */
    default void connectionOpened(ConnectionContext connection) {
    }

    /**
     * A connection was closed (by either side, idle timeout or shutdown). Stages still pending for
     * it may complete later: their responses are discarded and their buffers released.
     */
    default void connectionClosed(ConnectionContext connection) {
    }

    /**
     * Each event loop calls this after it has handled a round of ready connections and queued tasks, before it
     * writes the round's responses and waits again: work the round's requests started and that is best finished in
     * one go (say, one sync for all the round's appends) is done here, completing their stages on the loop thread.
     */
    default void endRound() {
    }
}
