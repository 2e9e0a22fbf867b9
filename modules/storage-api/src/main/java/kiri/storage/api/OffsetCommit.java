package kiri.storage.api;

import java.util.Objects;

/**
 * One committed offset to store for a group. {@code leaderEpoch} is -1 when the client sent none;
 * {@code metadata} may be null. {@code expireAtMs} is when the engine may drop it (-1: never on its
 * own; the coordinator computes it from offsets.retention.minutes or the request's retention time).
 */
public record OffsetCommit(TopicPartition partition, long offset, int leaderEpoch, String metadata, long expireAtMs) {
    public OffsetCommit {
        Objects.requireNonNull(partition, "partition");
    }

    public OffsetCommit(TopicPartition partition, long offset) {
        this(partition, offset, -1, null, -1L);
    }
}
