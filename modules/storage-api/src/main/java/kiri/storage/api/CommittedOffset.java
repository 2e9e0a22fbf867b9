package kiri.storage.api;

/** A stored committed offset, with the time the engine stored it (its clock) and when it expires (-1: never). */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestampMs, long expireAtMs) {
}
