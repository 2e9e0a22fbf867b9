package kiri.protocol.record;

import kiri.protocol.ErrorCode;

/**
 * The outcome of {@link RecordBatch#validate()}: {@link #VALID} or the first check that failed,
 * with the per-partition error code a Kafka broker answers a produce request with in that case.
 *
 * <p>A value, not an exception, so the produce path can map a bad batch to an error code without
 * throwing.
 */
public enum BatchStatus {
    VALID(ErrorCode.NONE, "valid"),
    /** Fewer bytes than the batch header up to the magic byte, or than batchLength promises. */
    TRUNCATED(ErrorCode.INVALID_RECORD, "record batch is truncated"),
    /** batchLength is below what the v2 header alone takes. */
    LENGTH_TOO_SMALL(ErrorCode.CORRUPT_MESSAGE, "record batch length is smaller than the batch header"),
    /** Magic is not 2: Kiri, like Kafka for produce v3+, takes only v2 batches. */
    UNSUPPORTED_MAGIC(ErrorCode.INVALID_RECORD, "record batch magic is not 2"),
    /** Larger than the limit passed to {@link RecordBatch#validateForProduce}. */
    TOO_LARGE(ErrorCode.MESSAGE_TOO_LARGE, "record batch is larger than the maximum batch size"),
    /** The stored CRC32C does not match the bytes. */
    CRC_MISMATCH(ErrorCode.CORRUPT_MESSAGE, "record batch CRC32C does not match its contents"),
    /** lastOffsetDelta + 1 is not positive. */
    INVALID_OFFSET_RANGE(ErrorCode.INVALID_RECORD, "record batch has an invalid offset range"),
    /** recordCount is not positive. */
    INVALID_RECORD_COUNT(ErrorCode.INVALID_RECORD, "record batch has an invalid record count"),
    /** lastOffsetDelta + 1 differs from recordCount. */
    RECORD_COUNT_MISMATCH(ErrorCode.INVALID_RECORD, "record batch offset range and record count differ"),
    /** Compression bits hold 5, 6 or 7. */
    UNKNOWN_COMPRESSION(ErrorCode.INVALID_RECORD, "record batch has an unknown compression type"),
    /** A control batch in a produce request: only the transaction coordinator writes those. */
    CONTROL_BATCH_NOT_ALLOWED(ErrorCode.INVALID_RECORD, "clients may not write control batches"),
    /** An idempotent batch (producerId >= 0) with a negative base sequence. */
    INVALID_SEQUENCE(ErrorCode.INVALID_RECORD, "idempotent record batch has a negative base sequence");

    private final ErrorCode errorCode;
    private final String message;

    BatchStatus(ErrorCode errorCode, String message) {
        this.errorCode = errorCode;
        this.message = message;
    }

    public boolean isValid() {
        return this == VALID;
    }

    /** The produce error code for this outcome ({@link ErrorCode#NONE} when valid). */
    public ErrorCode errorCode() {
        return errorCode;
    }

    /** A short explanation suitable for a produce response's error message. */
    public String message() {
        return message;
    }
}
