package kiri.storage.api;

/**
 * A ListOffsets answer: the offset, the timestamp of the record found (-1 for EARLIEST/LATEST) and the
 * leader epoch of the batch holding it (-1 if unknown). {@link #UNKNOWN} means "no such record", e.g.
 * a timestamp later than every record's.
 */
public record OffsetAndTimestamp(long offset, long timestamp, int leaderEpoch) {
    public static final OffsetAndTimestamp UNKNOWN = new OffsetAndTimestamp(-1L, -1L, -1);
}
