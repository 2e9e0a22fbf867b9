package kiri.protocol;

/**
 * Receives the error codes of a response, one call per {@code ErrorCode} field (including 0, NONE), from
 * {@link ApiMessage#countErrors}. Called on the thread that walks the response.
 */
@FunctionalInterface
public interface ErrorCounter {
    void count(short errorCode);
}
