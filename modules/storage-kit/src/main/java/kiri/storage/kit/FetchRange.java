package kiri.storage.kit;

import kiri.protocol.ErrorCode;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;

/** Kafka's fetch position rule, for every engine: from the log start offset up to the high watermark. Stateless. */
public final class FetchRange {
    private FetchRange() {
    }

    /** OFFSET_OUT_OF_RANGE if {@code offset} is below the log start offset or above the high watermark, else null. */
    public static StorageException check(TopicPartition tp, long offset, PartitionOffsets offsets) {
        if (offset >= offsets.logStartOffset() && offset <= offsets.highWatermark()) return null;
        return new StorageException(ErrorCode.OFFSET_OUT_OF_RANGE, "Fetch position " + offset + " is out of range for "
                + tp + " (log start offset " + offsets.logStartOffset() + ", high watermark " + offsets.highWatermark() + ")");
    }
}
