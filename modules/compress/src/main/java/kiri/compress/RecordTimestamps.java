package kiri.compress;

import java.lang.foreign.MemorySegment;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordCursor;

/**
 * ListOffsets by timestamp inside one stored batch, shared by the storage engines: an engine finds the batch
 * by its max timestamp, then asks here for the record. Like Kafka, a compressed batch is decompressed for it.
 * Stateless, thread-safe; allocates a cursor (and a copy for a compressed batch) per call.
 */
public final class RecordTimestamps {
    private RecordTimestamps() {
    }

    /** A record's offset and timestamp. */
    public record Found(long offset, long timestamp) {
    }

    /**
     * The first record of the v2 batch at the start of {@code batch} whose offset is {@code >= minOffset} and
     * whose timestamp is {@code >= target}, or null if it has none. LogAppendTime batches give every record the
     * batch's max timestamp. A batch whose records cannot be read (a codec failure, a malformed record) answers
     * at batch granularity: its first offset at or after {@code minOffset}, with its max timestamp.
     */
    public static Found firstAtOrAfter(MemorySegment batch, long target, long minOffset) {
        RecordBatch b = new RecordBatch().wrap(batch, 0);
        long maxTs = b.maxTimestamp();
        long first = Math.max(minOffset, b.baseOffset());
        try {
            MemorySegment plain = b.isCompressed() ? BatchCompression.decompress(b, BatchCompression.DEFAULT_MAX_RECORDS_BYTES) : batch;
            RecordCursor records = new RecordCursor().wrap(new RecordBatch().wrap(plain, 0));
            while (records.next()) {
                if (records.offset() >= minOffset && records.timestamp() >= target) {
                    return new Found(records.offset(), records.timestamp());
                }
            }
            return null;
        } catch (ProtocolException e) {
            return maxTs >= target ? new Found(first, maxTs) : null;
        }
    }
}
