package kiri.protocol.record;

import java.util.List;
import kiri.protocol.ErrorCode;

/**
 * The outcome of {@link RecordsValidator}: {@link #VALID}, or the error a Kafka broker answers the
 * partition with, a message for the produce response, and the records at fault when the failure is
 * per record (a keyless record on a compacted topic, a timestamp out of range), as Produce v8+
 * reports them in {@code recordErrors}. A malformed batch (one record's bytes do not parse) fails
 * as a whole, with no record errors, as Kafka's does. Immutable.
 */
public record RecordsVerdict(ErrorCode errorCode, String message, List<RecordError> recordErrors) {
    public static final RecordsVerdict VALID = new RecordsVerdict(ErrorCode.NONE, null, List.of());

    public RecordsVerdict {
        recordErrors = List.copyOf(recordErrors);
    }

    /** A batch refused as a whole: INVALID_RECORD with {@code message}. */
    static RecordsVerdict malformed(String message) {
        return new RecordsVerdict(ErrorCode.INVALID_RECORD, message, List.of());
    }

    public boolean isValid() {
        return errorCode == ErrorCode.NONE;
    }

    /** One refused record: its 0-based index in the batch and why (Produce's BatchIndexAndErrorMessage). */
    public record RecordError(int batchIndex, String message) {
        /** As kafka-clients prints one (Kafka's produce error message quotes them so). */
        @Override
        public String toString() {
            return "RecordError(batchIndex=" + batchIndex + ", message=" + (message == null ? "null" : "'" + message + "'") + ")";
        }
    }
}
