package kiri.storage.contract;

/**
 * What a contract test needs beyond the plain SPI. An engine lacking one says so in
 * {@link ContractEngine#gaps()} with the reason, and the tests needing it are skipped (JUnit
 * assumptions) with that reason in the report: a legitimate difference (null:// keeps no records),
 * or a gap the engine's README lists.
 */
public enum Capability {
    /** Fetch returns the batches produced; retention, timestamps and aborted ranges have records to act on. */
    RECORDS,
    /** Idempotent producers: per-partition sequence windows, duplicates answered with the original offset. */
    PRODUCER_STATE,
    /** {@code retention.bytes} applied by {@code maintain}. */
    RETENTION_BYTES,
    /** ListOffsets by timestamp finds the exact record (not only the first batch reaching the time). */
    RECORD_TIMESTAMPS,
    /** Closing and opening the same store again keeps topics, records and offsets. */
    REOPEN,
    /** Groups, committed offsets and transactional producers' epochs survive a reopen. */
    DURABLE_COORDINATION
}
