package kiri.router;

import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;

/**
 * Answers the requests of one API.
 *
 * <p>Threading: called on a transport event-loop thread, concurrently for different connections;
 * must not block. Slow work (storage I/O, long polls, group rebalances) completes the returned
 * stage later from any thread. Lifetime: {@code bytes}/{@code records} fields of the request are
 * views of the request frame and are valid only until the returned stage completes.
 */
@FunctionalInterface
public interface Handler {
    /**
     * @return a stage with the response body, or with {@code null} when the request gets no
     *     response at all (a produce with acks=0)
     */
    CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage request);
}
