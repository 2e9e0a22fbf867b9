package kiri.storage.api;

/**
 * The special timestamps of ListOffsets (Kafka's {@code ListOffsetsRequest} constants). Any value
 * {@code >= 0} asks for the first offset whose record timestamp is {@code >=} it.
 */
public final class OffsetSpec {
    private OffsetSpec() {}

    /** The high watermark (the last stable offset under READ_COMMITTED). */
    public static final long LATEST = -1L;
    /** The log start offset. */
    public static final long EARLIEST = -2L;
    /** The offset and timestamp of the record with the largest timestamp. */
    public static final long MAX_TIMESTAMP = -3L;
    /** The first offset held locally; without tiered storage, the same as {@link #EARLIEST}. */
    public static final long EARLIEST_LOCAL = -4L;
    /** The last offset in tiered storage; without tiered storage there is none ({@link OffsetAndTimestamp#UNKNOWN}). */
    public static final long LATEST_TIERED = -5L;
}
