package kiri.protocol;

/** A request or response body; {@link #apiKey} names its API. */
public interface ApiMessage extends Message {
    short apiKey();

    /**
     * Reports each {@code ErrorCode} field of this message and its nested structs to {@code counter}, as Kafka's
     * {@code errorCounts()} sees them; responses implement it, requests have none. Allocates nothing.
     */
    default void countErrors(ErrorCounter counter) {
    }
}
