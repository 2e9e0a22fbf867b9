package kiri.storage.kit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.Stages;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;

/**
 * ListOffsets for one partition, as every engine answers it: latest (the end the isolation level may read),
 * earliest, latest-tiered (none: no tiered storage), and by timestamp or max timestamp through the engine's
 * {@link Lookup}. A record found below the log start offset (DeleteRecords inside a batch) is not there for
 * clients: the answer is the log start offset. Stateless.
 */
public final class ListOffsets {
    /** The leader epoch in every answer: a single node never changes leader. */
    private static final int LEADER_EPOCH = CatalogStorage.LEADER_EPOCH;

    /** What an engine looks up in its records; {@link OffsetAndTimestamp#UNKNOWN} if nothing matches (or nothing is kept). */
    public interface Lookup {
        /** For an engine that keeps no records (null://): no timestamp to find. */
        Lookup NOTHING = new Lookup() {
            @Override
            public OffsetAndTimestamp maxTimestamp(long end) {
                return OffsetAndTimestamp.UNKNOWN;
            }

            @Override
            public OffsetAndTimestamp atOrAfter(long timestamp, long end) {
                return OffsetAndTimestamp.UNKNOWN;
            }
        };

        /** The record with the largest timestamp below {@code end}. */
        OffsetAndTimestamp maxTimestamp(long end) throws IOException;

        /** The first record below {@code end} with a timestamp at or after {@code timestamp}. */
        OffsetAndTimestamp atOrAfter(long timestamp, long end) throws IOException;
    }

    private ListOffsets() {
    }

    /**
     * @return the answer, or a stage failed with INVALID_REQUEST (an unknown negative spec) or KAFKA_STORAGE_ERROR
     *         (the lookup's I/O failed)
     */
    public static CompletableFuture<OffsetAndTimestamp> resolve(TopicPartition tp, long timestamp, PartitionOffsets offsets,
                                                                IsolationLevel isolation, Lookup lookup) {
        long end = offsets.fetchableEnd(isolation);
        try {
            OffsetAndTimestamp found;
            if (timestamp == OffsetSpec.LATEST) {
                found = new OffsetAndTimestamp(end, -1L, LEADER_EPOCH);
            } else if (timestamp == OffsetSpec.EARLIEST || timestamp == OffsetSpec.EARLIEST_LOCAL) {
                found = new OffsetAndTimestamp(offsets.logStartOffset(), -1L, LEADER_EPOCH);
            } else if (timestamp == OffsetSpec.LATEST_TIERED) {
                found = OffsetAndTimestamp.UNKNOWN;
            } else if (timestamp == OffsetSpec.MAX_TIMESTAMP) {
                found = atOrAfterStart(lookup.maxTimestamp(end), offsets);
            } else if (timestamp >= 0) {
                found = atOrAfterStart(lookup.atOrAfter(timestamp, end), offsets);
            } else {
                return Stages.failed(ErrorCode.INVALID_REQUEST, "Unknown ListOffsets timestamp " + timestamp + " for " + tp);
            }
            return CompletableFuture.completedFuture(found);
        } catch (IOException | UncheckedIOException e) {
            return Stages.failed(new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "storage I/O failed: " + e.getMessage(), e));
        } catch (StorageException e) {
            return Stages.failed(e);
        }
    }

    private static OffsetAndTimestamp atOrAfterStart(OffsetAndTimestamp o, PartitionOffsets offsets) {
        if (o.offset() >= 0 && o.offset() < offsets.logStartOffset()) {
            return new OffsetAndTimestamp(offsets.logStartOffset(), o.timestamp(), LEADER_EPOCH);
        }
        return o;
    }
}
