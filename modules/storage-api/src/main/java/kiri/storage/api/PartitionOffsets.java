package kiri.storage.api;

/**
 * The offset stages of a partition: {@code logStartOffset <= lastStableOffset <= highWatermark}.
 * The high watermark is the next offset to be assigned (single-node engines have no replication lag);
 * the last stable offset is the first offset of the oldest open transaction, else the high watermark.
 */
public record PartitionOffsets(long logStartOffset, long lastStableOffset, long highWatermark) {

    /** The end a fetch may read up to at this isolation level. */
    public long fetchableEnd(IsolationLevel isolation) {
        return isolation == IsolationLevel.READ_COMMITTED ? lastStableOffset : highWatermark;
    }
}
