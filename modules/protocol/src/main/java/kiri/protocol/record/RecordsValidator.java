package kiri.protocol.record;

import static kiri.protocol.BigEndian.LONG;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import kiri.protocol.ErrorCode;

/**
 * Checks the records of a produced v2 batch as Kafka's broker does (its LogValidator, and the
 * record reader under it) before the batch is stored, in one pass over the bytes and without an
 * object per record:
 * <ul>
 * <li>the batch holds exactly recordCount records: none missing (the batch ends first) and no
 * bytes left after the last;
 * <li>each record's length varint fits in the batch and its fields take exactly that many bytes;
 * varints are at most 5 bytes (varlongs 10);
 * <li>key and value lengths are -1 (null) or a count of bytes present; the header count is >= 0
 * and that many headers are present, each with a key (length >= 0) and a value (length >= -1);
 * <li>offset deltas are 0, 1, 2 ... in order (Kafka rewrites a compressed batch whose inner
 * offsets are not, and stores an uncompressed one as is; Kiri stores batches as they come, so it
 * refuses both, which no Kafka client sends);
 * <li>per record, as Kafka reports in recordErrors: a key on a compacted topic (INVALID_RECORD),
 * and for CreateTime topics a timestamp within message.timestamp.before.max.ms /
 * after.max.ms of now, for LogAppendTime topics no producer-set LogAppendTime (INVALID_TIMESTAMP).
 * </ul>
 * A malformed record stops the walk: the batch is INVALID_RECORD with a message naming the record.
 * Per-record failures are all counted, as Kafka counts them; the first {@link #MAX_RECORD_ERRORS} are listed.
 *
 * <p>The batch header (its CRC, counts, base offset) is {@link RecordBatch#validateForProduce}'s
 * job and comes first. A compressed batch is decompressed by the caller (kiri.compress) and its
 * records section passed to {@link #validate(RecordBatch, MemorySegment, long, long, Policy, long)}.
 * Pure: no I/O, no threads; each call uses its own state, so any thread may call it.
 */
public final class RecordsValidator {
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    /**
     * The most record errors a verdict lists (all are counted). Kafka lists every one; a compressed batch of a few
     * KiB can hold millions of tiny records, each with a future timestamp, whose messages would exhaust the heap and
     * make the response gigabytes. The producer fails the records past the list with the batch's generic error.
     */
    public static final int MAX_RECORD_ERRORS = 1000;

    /**
     * What a topic asks of the records produced to it.
     *
     * @param topic                the topic's name, for messages
     * @param partition            the partition, for messages
     * @param keyRequired          cleanup.policy includes compact: every record needs a key
     * @param logAppendTime        message.timestamp.type is LogAppendTime
     * @param timestampBeforeMaxMs message.timestamp.before.max.ms
     * @param timestampAfterMaxMs  message.timestamp.after.max.ms
     */
    public record Policy(String topic, int partition, boolean keyRequired, boolean logAppendTime,
                         long timestampBeforeMaxMs, long timestampAfterMaxMs) {
        /** This policy for another partition of the same topic. */
        public Policy withPartition(int partition) {
            return partition == this.partition ? this
                    : new Policy(topic, partition, keyRequired, logAppendTime, timestampBeforeMaxMs, timestampAfterMaxMs);
        }

        /** The topic-partition as Kafka names it in messages: {@code topic-0}. */
        public String partitionName() {
            return topic + "-" + partition;
        }
    }

    private final MemorySegment segment;
    private final long start;
    private final long end;
    private long position;
    /**
     * The 8 bytes from {@code wordAt} (big-endian; zeros past {@link #end}): fields are read from it,
     * one segment access per 8 bytes instead of one per byte, which is what the broker's C1-only JIT
     * pays most for.
     */
    private long word;
    private long wordAt;
    /** The record being read and where it starts, for messages. */
    private int index;
    private long recordAt;

    private RecordsValidator(MemorySegment segment, long start, long end) {
        this.segment = segment;
        this.start = start;
        this.end = end;
        this.position = start;
        this.wordAt = start - Long.BYTES; // nothing loaded yet
    }

    /** Validates the records of the uncompressed batch {@code batch}, in place. */
    public static RecordsVerdict validate(RecordBatch batch, Policy policy, long nowMs) {
        return validate(batch, batch.segment(), batch.offset() + RecordBatch.HEADER_SIZE,
                batch.sizeInBytes() - RecordBatch.HEADER_SIZE, policy, nowMs);
    }

    /**
     * Validates {@code length} bytes of {@code records} from {@code from} as the records section of
     * {@code batch} (whose header gives the record count, timestamps and timestamp type): the batch's
     * own bytes when uncompressed, its decompressed records otherwise.
     *
     * @param nowMs the broker's clock, for the timestamp bounds
     */
    public static RecordsVerdict validate(RecordBatch batch, MemorySegment records, long from, long length,
                                          Policy policy, long nowMs) {
        try {
            return new RecordsValidator(records, from, from + length).walk(batch, policy, nowMs);
        } catch (Malformed e) {
            return RecordsVerdict.malformed(e.getMessage() + " in topic partition " + policy.partitionName());
        }
    }

    private RecordsVerdict walk(RecordBatch batch, Policy policy, long nowMs) {
        int count = batch.recordCount();
        if (count < 0) {
            throw new Malformed("record batch has a negative record count " + count);
        }
        boolean logAppendTimeBatch = batch.timestampType() == TimestampType.LOG_APPEND_TIME;
        long baseTimestamp = batch.baseTimestamp();
        long maxTimestamp = batch.maxTimestamp();
        List<RecordsVerdict.RecordError> errors = null;
        int errorCount = 0;
        String keyError = null; // the same for every keyless record: built once
        boolean timestampErrors = false;
        for (int i = 0; i < count; i++) {
            if (position >= end) {
                throw new Malformed("record batch declares " + count + " records but holds " + i);
            }
            index = i;
            recordAt = position;
            int length = varint(end);
            if (length < 0 || length > end - position) {
                throw malformed("has length " + length + " but " + (end - position)
                        + " bytes remain in the batch");
            }
            long recordEnd = position + length;
            readByte(recordEnd); // attributes: unused in v2 records
            long timestampDelta = varlong(recordEnd);
            int offsetDelta = varint(recordEnd);
            if (offsetDelta != i) {
                throw malformed("has offset delta " + offsetDelta + ", expected " + i);
            }
            int keyLength = bytes(recordEnd, "key");
            bytes(recordEnd, "value");
            int headers = varint(recordEnd);
            if (headers < 0 || headers > recordEnd - position) {
                throw malformed("declares " + headers + " headers but " + (recordEnd - position)
                        + " bytes remain in the record");
            }
            for (int h = 0; h < headers; h++) {
                if (bytes(recordEnd, "header key") < 0) {
                    throw malformed("has a null header key");
                }
                bytes(recordEnd, "header value");
            }
            if (position != recordEnd) {
                throw malformed("declares " + length + " bytes but its fields take "
                        + (position - (recordEnd - length)));
            }
            // Per-record checks, in Kafka's order: the key, then the timestamp; one error per record.
            String error = null;
            boolean listed = errorCount < MAX_RECORD_ERRORS; // messages are built for the listed errors only
            if (policy.keyRequired() && keyLength < 0) {
                error = keyError != null ? keyError : (keyError = "Compacted topic cannot accept message without "
                        + "key in topic partition " + policy.partitionName());
            } else {
                long timestamp = logAppendTimeBatch ? maxTimestamp : baseTimestamp + timestampDelta;
                if (!policy.logAppendTime() && timestamp != RecordBatch.NO_TIMESTAMP) {
                    long diff = nowMs - timestamp;
                    if (diff > policy.timestampBeforeMaxMs() || -diff > policy.timestampAfterMaxMs()) {
                        error = !listed ? "" : "Timestamp " + timestamp + " of message with offset " + offsetDelta
                                + " is out of range. The timestamp should be within ["
                                + (nowMs - policy.timestampBeforeMaxMs()) + ", "
                                + (nowMs + policy.timestampAfterMaxMs()) + "]";
                        timestampErrors = true;
                    }
                } else if (logAppendTimeBatch) {
                    error = !listed ? "" : "Invalid timestamp type in message with offset " + offsetDelta
                            + ". Producer should not set timestamp type to LogAppendTime.";
                    timestampErrors = true;
                }
            }
            if (error != null && errorCount++ < MAX_RECORD_ERRORS) {
                if (errors == null) {
                    errors = new ArrayList<>();
                }
                errors.add(new RecordsVerdict.RecordError(i, error));
            }
        }
        if (position != end) {
            throw new Malformed("record batch declares " + count + " records but " + (end - position)
                    + " bytes remain after the last one");
        }
        if (errors == null) {
            return RecordsVerdict.VALID;
        }
        // Kafka's RecordValidationException: one timestamp error makes the whole batch INVALID_TIMESTAMP.
        if (timestampErrors) {
            return new RecordsVerdict(ErrorCode.INVALID_TIMESTAMP,
                    "One or more records have been rejected due to invalid timestamp", errors);
        }
        return new RecordsVerdict(ErrorCode.INVALID_RECORD, "One or more records have been rejected due to "
                + errorCount + " record errors in total, and only showing the first three errors at most: "
                + errors.subList(0, Math.min(errors.size(), 3)), errors);
    }

    /** A length varint (-1 = null) and that many bytes, skipped; the length. */
    private int bytes(long limit, String what) {
        int length = varint(limit);
        if (length < -1 || length > limit - position) {
            throw malformed("has a " + what + " of length " + length + " but "
                    + (limit - position) + " bytes remain in the record");
        }
        if (length > 0) {
            position += length;
        }
        return length;
    }

    private byte readByte(long limit) {
        if (position >= limit) {
            throw eof(limit);
        }
        long shift = position - wordAt; // >= 0: position only moves forward
        if (shift >= Long.BYTES) {
            fill();
            shift = 0;
        }
        position++;
        return (byte) (word >>> (56 - 8 * shift));
    }

    /** Loads {@link #word} from {@link #position}, never reading past {@link #end}. */
    private void fill() {
        if (end - position >= Long.BYTES) {
            word = segment.get(LONG, position);
        } else {
            long w = 0;
            for (long p = position; p < position + Long.BYTES; p++) {
                w = (w << 8) | (p < end ? segment.get(BYTE, p) & 0xff : 0);
            }
            word = w;
        }
        wordAt = position;
    }

    /** A zig-zag varint of at most 5 bytes; bits beyond 32 are dropped, as Kafka's reader drops them. */
    private int varint(long limit) {
        int raw = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = readByte(limit);
            raw |= (b & 0x7f) << shift;
            if (b >= 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw malformed("has a varint longer than 5 bytes at byte " + (position - 5 - start) + " of the records");
    }

    /** A zig-zag varlong of at most 10 bytes. */
    private long varlong(long limit) {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            byte b = readByte(limit);
            raw |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw malformed("has a varlong longer than 10 bytes at byte " + (position - 10 - start) + " of the records");
    }

    private Malformed eof(long limit) {
        return malformed("runs past its declared length or the batch at byte " + (limit - start) + " of the records");
    }

    private Malformed malformed(String what) {
        return new Malformed("record " + index + " (at byte " + (recordAt - start) + " of the records) " + what);
    }

    /** Why the walk stopped; thrown only for bad input, so it carries no stack trace. */
    private static final class Malformed extends RuntimeException {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }
}
