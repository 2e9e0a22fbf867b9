package kiri.protocol.record;

import static kiri.protocol.record.RawBatches.batch;
import static kiri.protocol.record.RawBatches.body;
import static kiri.protocol.record.RawBatches.record;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import kiri.protocol.ErrorCode;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link RecordsValidator}: one test per rule, on batches written byte by byte and by kafka-clients. */
class RecordsValidatorTest {
    private static final long NOW = 1_700_000_000_000L;
    private static final long HOUR = 3_600_000L;
    private static final RecordsValidator.Policy PLAIN = new RecordsValidator.Policy("t", 0, false, false,
            Long.MAX_VALUE, HOUR);
    private static final RecordsValidator.Policy COMPACTED = new RecordsValidator.Policy("t", 0, true, false,
            Long.MAX_VALUE, HOUR);
    private static final RecordsValidator.Policy LOG_APPEND_TIME = new RecordsValidator.Policy("t", 0, false, true,
            Long.MAX_VALUE, HOUR);
    private static final byte[] K = "k".getBytes(StandardCharsets.UTF_8);
    private static final byte[] V = "value".getBytes(StandardCharsets.UTF_8);

    private static RecordsVerdict validate(RecordBatch batch, RecordsValidator.Policy policy) {
        return RecordsValidator.validate(batch, policy, NOW);
    }

    private static void assertMalformed(RecordsVerdict verdict, String messagePart) {
        assertEquals(ErrorCode.INVALID_RECORD, verdict.errorCode(), verdict.toString());
        assertEquals(List.of(), verdict.recordErrors(), "a malformed batch fails as a whole");
        assertTrue(verdict.message().contains(messagePart), verdict.message() + " should contain " + messagePart);
        assertTrue(verdict.message().endsWith("in topic partition t-0"), verdict.message());
    }

    @ParameterizedTest
    @EnumSource(KafkaBatches.Memory.class)
    void kafkaBuiltBatchesAreValid(KafkaBatches.Memory memory) {
        List<SimpleRecord> records = List.of(
                new SimpleRecord(NOW, K, V),
                new SimpleRecord(NOW - 1000, (byte[]) null, (byte[]) null),
                new SimpleRecord(NOW + 1000, K, new byte[300], new org.apache.kafka.common.header.Header[] {
                        new RecordHeader("h1", "x".getBytes(StandardCharsets.UTF_8)), new RecordHeader("h2", null)}),
                new SimpleRecord(-1L, new byte[0], new byte[0]));
        byte[] bytes = KafkaBatches.build(KafkaBatches.Spec.plain(), records);
        RecordBatch batch = new RecordBatch().wrap(memory.apply(bytes), 0);
        assertTrue(batch.validateForProduce(Long.MAX_VALUE).isValid());
        assertEquals(RecordsVerdict.VALID, validate(batch, PLAIN));
    }

    /** Record errors are all counted but only the first MAX_RECORD_ERRORS listed: tiny records cannot flood the heap. */
    @Test
    void recordErrorsAreCountedAllButListedUpToTheCap() {
        int records = RecordsValidator.MAX_RECORD_ERRORS * 3;
        MemorySegment buffer = MemorySegment.ofArray(new byte[records * 16 + 128]);
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(buffer, 0);
        for (int i = 0; i < records; i++) {
            builder.append(NOW + 2 * HOUR, (byte[]) null, null);
        }
        builder.build();
        RecordBatch batch = new RecordBatch().wrap(buffer, 0);

        RecordsVerdict future = validate(batch, PLAIN);
        assertEquals(ErrorCode.INVALID_TIMESTAMP, future.errorCode());
        assertEquals(RecordsValidator.MAX_RECORD_ERRORS, future.recordErrors().size());
        assertEquals(RecordsValidator.MAX_RECORD_ERRORS - 1, future.recordErrors().getLast().batchIndex());
        assertTrue(future.recordErrors().getLast().message().startsWith("Timestamp "), future.recordErrors().getLast().message());

        RecordsVerdict keyless = validate(batch, COMPACTED);
        assertEquals(ErrorCode.INVALID_RECORD, keyless.errorCode());
        assertEquals(RecordsValidator.MAX_RECORD_ERRORS, keyless.recordErrors().size());
        assertTrue(keyless.message().contains(records + " record errors in total"), keyless.message());
    }

    @Test
    void builderBatchesAreValid() {
        MemorySegment buffer = MemorySegment.ofArray(new byte[4096]);
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(buffer, 0);
        for (int i = 0; i < 20; i++) {
            builder.append(NOW + i, i % 3 == 0 ? null : K, i % 5 == 0 ? null : V, List.of(Header.of("h", V)));
        }
        builder.build();
        assertEquals(RecordsVerdict.VALID, validate(new RecordBatch().wrap(buffer, 0), PLAIN));
    }

    @Test
    void aCountBeyondTheRecordsPresentIsInvalid() {
        RecordsVerdict verdict = validate(batch(1_000_000, NOW, record(0, 0, K, V)), PLAIN);
        assertMalformed(verdict, "declares 1000000 records but holds 1");
    }

    @Test
    void bytesAfterTheDeclaredRecordsAreInvalid() {
        RecordsVerdict verdict = validate(batch(1, NOW, record(0, 0, K, V), record(1, 0, K, V)), PLAIN);
        assertMalformed(verdict, "bytes remain after the last one");
    }

    @Test
    void aHeaderCountBeyondTheHeadersPresentIsInvalid() {
        byte[] r = record(body(0, 0, K, V).varint(1_000_000));
        assertMalformed(validate(batch(1, NOW, r), PLAIN), "declares 1000000 headers");
    }

    @Test
    void aNegativeHeaderCountIsInvalid() {
        byte[] r = record(body(0, 0, K, V).varint(-1));
        assertMalformed(validate(batch(1, NOW, r), PLAIN), "declares -1 headers");
    }

    @Test
    void fewerHeadersThanDeclaredAreInvalid() {
        byte[] r = record(body(0, 0, K, V).varint(2).bytes(K).bytes(V));
        assertMalformed(validate(batch(1, NOW, r), PLAIN), "record 0");
    }

    @Test
    void aNullOrNegativeHeaderKeyIsInvalid() {
        assertMalformed(validate(batch(1, NOW, record(body(0, 0, K, V).varint(1).bytes(null).bytes(V))), PLAIN),
                "null header key");
        assertMalformed(validate(batch(1, NOW, record(body(0, 0, K, V).varint(1).varint(-2).bytes(V))), PLAIN),
                "header key of length -2");
    }

    @Test
    void aHeaderValueLengthBelowMinusOneIsInvalid() {
        byte[] r = record(body(0, 0, K, V).varint(1).bytes(K).varint(-2));
        assertMalformed(validate(batch(1, NOW, r), PLAIN), "header value of length -2");
    }

    @Test
    void nullHeaderValuesAreValid() {
        byte[] r = record(body(0, 0, K, V).varint(2).bytes(K).bytes(null).bytes(new byte[0]).bytes(V));
        assertEquals(RecordsVerdict.VALID, validate(batch(1, NOW, r), PLAIN));
    }

    @Test
    void keyAndValueLengthsBelowMinusOneOrBeyondTheRecordAreInvalid() {
        assertMalformed(validate(batch(1, NOW, record(new RawBatches.Writer().int8(0).varlong(0).varint(0)
                .varint(-2).bytes(V).varint(0))), PLAIN), "key of length -2");
        assertMalformed(validate(batch(1, NOW, record(new RawBatches.Writer().int8(0).varlong(0).varint(0)
                .bytes(K).varint(-7).varint(0))), PLAIN), "value of length -7");
        assertMalformed(validate(batch(1, NOW, record(new RawBatches.Writer().int8(0).varlong(0).varint(0)
                .varint(1000).raw(K).varint(0))), PLAIN), "key of length 1000");
        assertMalformed(validate(batch(1, NOW, record(new RawBatches.Writer().int8(0).varlong(0).varint(0)
                .bytes(K).varint(Integer.MAX_VALUE).varint(0))), PLAIN), "value of length " + Integer.MAX_VALUE);
    }

    @Test
    void aRecordLengthBeyondTheBatchIsInvalid() {
        byte[] body = body(0, 0, K, V).varint(0).toArray();
        byte[] r = new RawBatches.Writer().varint(body.length + 1).raw(body).toArray();
        assertMalformed(validate(batch(1, NOW, r), PLAIN), "has length " + (body.length + 1));
    }

    @Test
    void aNegativeRecordLengthIsInvalid() {
        byte[] r = new RawBatches.Writer().varint(-3).raw(body(0, 0, K, V).varint(0).toArray()).toArray();
        assertMalformed(validate(batch(1, NOW, r), PLAIN), "has length -3");
    }

    @Test
    void aRecordLengthNotConsumedExactlyByItsFieldsIsInvalid() {
        byte[] body = body(0, 0, K, V).varint(0).toArray();
        // declared one byte longer than the fields: the spare byte is not a field
        byte[] longer = new RawBatches.Writer().varint(body.length + 1).raw(body).int8(0).toArray();
        assertMalformed(validate(batch(1, NOW, longer), PLAIN), "but its fields take " + body.length);
        // declared one byte shorter: the last field (header count) runs past the record
        byte[] shorter = new RawBatches.Writer().varint(body.length - 1).raw(body).toArray();
        RecordsVerdict verdict = validate(batch(1, NOW, shorter), PLAIN);
        assertMalformed(verdict, "runs past its declared length");
    }

    @Test
    void offsetDeltasMustCountFromZeroInOrder() {
        assertMalformed(validate(batch(2, NOW, record(0, 0, K, V), record(2, 0, K, V)), PLAIN),
                "record 1 (at byte 13 of the records) has offset delta 2, expected 1");
        assertMalformed(validate(batch(2, NOW, record(1, 0, K, V), record(0, 0, K, V)), PLAIN),
                "has offset delta 1, expected 0");
        assertMalformed(validate(batch(1, NOW, record(-1, 0, K, V)), PLAIN), "has offset delta -1");
    }

    @Test
    void varintsLongerThanFiveBytesAreInvalid() {
        byte[] r = new RawBatches.Writer().varint(20).int8(0).varlong(0)
                .raw(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0}).toArray();
        byte[] padded = java.util.Arrays.copyOf(r, 21);
        assertMalformed(validate(batch(1, NOW, padded), PLAIN), "varint longer than 5 bytes");
    }

    @Test
    void aKeylessRecordOnACompactedTopicIsRefusedWithItsIndex() {
        RecordBatch b = batch(3, NOW, record(0, 0, null, V), record(1, 0, K, V), record(2, 0, null, null));
        assertEquals(RecordsVerdict.VALID, validate(b, PLAIN));
        RecordsVerdict verdict = validate(b, COMPACTED);
        assertEquals(ErrorCode.INVALID_RECORD, verdict.errorCode());
        String why = "Compacted topic cannot accept message without key in topic partition t-0";
        assertEquals(List.of(new RecordsVerdict.RecordError(0, why), new RecordsVerdict.RecordError(2, why)),
                verdict.recordErrors());
        assertEquals("One or more records have been rejected due to 2 record errors in total, and only showing the "
                + "first three errors at most: [RecordError(batchIndex=0, message='" + why + "'), "
                + "RecordError(batchIndex=2, message='" + why + "')]", verdict.message());
        assertEquals(RecordsVerdict.VALID, validate(batch(1, NOW, record(0, 0, K, null)), COMPACTED),
                "a keyed tombstone is fine");
    }

    @Test
    void createTimeTimestampsMustBeWithinTheTopicsBounds() {
        RecordsValidator.Policy day = new RecordsValidator.Policy("t", 0, false, false, 86_400_000L, HOUR);
        // base timestamp NOW; deltas: in range, 2 h ahead, 2 days behind, exactly 1 h ahead
        RecordBatch b = batch(4, NOW, record(0, 0, K, V), record(1, 2 * HOUR, K, V), record(2, -48 * HOUR, K, V),
                record(3, HOUR, K, V));
        RecordsVerdict verdict = validate(b, day);
        assertEquals(ErrorCode.INVALID_TIMESTAMP, verdict.errorCode());
        assertEquals("One or more records have been rejected due to invalid timestamp", verdict.message());
        assertEquals(List.of(1, 2), verdict.recordErrors().stream().map(RecordsVerdict.RecordError::batchIndex).toList());
        assertEquals("Timestamp " + (NOW + 2 * HOUR) + " of message with offset 1 is out of range. The timestamp "
                + "should be within [" + (NOW - 86_400_000L) + ", " + (NOW + HOUR) + "]",
                verdict.recordErrors().get(0).message());
        // Kafka's default before.max.ms (Long.MAX_VALUE) takes any past timestamp
        assertEquals(List.of(1), validate(b, PLAIN).recordErrors().stream()
                .map(RecordsVerdict.RecordError::batchIndex).toList());
    }

    @Test
    void noTimestampIsNotRangeChecked() {
        assertEquals(RecordsVerdict.VALID, validate(batch(1, -1L, record(0, 0, K, V)), PLAIN));
    }

    @Test
    void logAppendTimeTopicsTakeAnyCreateTimeButRefuseProducerSetLogAppendTime() {
        RecordBatch farFuture = batch(1, NOW + 100 * HOUR, record(0, 0, K, V));
        assertEquals(RecordsVerdict.VALID, validate(farFuture, LOG_APPEND_TIME));
        RecordBatch stamped = batch(2, NOW, NOW, RecordBatch.TIMESTAMP_TYPE_MASK, record(0, 0, K, V), record(1, 0, K, V));
        RecordsVerdict verdict = validate(stamped, LOG_APPEND_TIME);
        assertEquals(ErrorCode.INVALID_TIMESTAMP, verdict.errorCode());
        assertEquals(2, verdict.recordErrors().size());
        assertTrue(verdict.recordErrors().get(0).message().contains("Producer should not set timestamp type to LogAppendTime"));
        // on a CreateTime topic a LogAppendTime batch's records carry its maxTimestamp, range-checked as any
        assertEquals(RecordsVerdict.VALID, validate(stamped, PLAIN));
        RecordBatch unstamped = batch(1, NOW, -1L, RecordBatch.TIMESTAMP_TYPE_MASK, record(0, 0, K, V));
        assertEquals(ErrorCode.INVALID_TIMESTAMP, validate(unstamped, PLAIN).errorCode());
    }

    @Test
    void aTimestampErrorMakesTheBatchInvalidTimestampWithEveryRecordError() {
        RecordBatch b = batch(2, NOW, record(0, 0, null, V), record(1, 2 * HOUR, K, V));
        RecordsVerdict verdict = validate(b, COMPACTED);
        assertEquals(ErrorCode.INVALID_TIMESTAMP, verdict.errorCode());
        assertEquals(List.of(0, 1), verdict.recordErrors().stream().map(RecordsVerdict.RecordError::batchIndex).toList());
    }

    @Test
    void aMalformedRecordAfterRecordErrorsFailsTheBatchAsAWhole() {
        RecordBatch b = batch(2, NOW, record(0, 0, null, V), record(5, 0, K, V));
        assertMalformed(validate(b, COMPACTED), "has offset delta 5");
    }

    @ParameterizedTest
    @EnumSource(KafkaBatches.Memory.class)
    void everyTruncationAndRandomCorruptionGetsAVerdictNeverAnException(KafkaBatches.Memory memory) {
        byte[] r0 = record(body(0, 0, K, V).varint(1).bytes(K).bytes(V));
        byte[] r1 = record(1, 5, null, new byte[200]);
        byte[] r2 = record(2, -5, K, null);
        RecordBatch whole = batch(3, NOW, r0, r1, r2);
        byte[] bytes = whole.segment().toArray(ValueLayout.JAVA_BYTE);
        int section = bytes.length - RecordBatch.HEADER_SIZE;
        RecordBatch b = new RecordBatch().wrap(memory.apply(bytes), 0);
        for (int length = 0; length < section; length++) {
            RecordsVerdict verdict = RecordsValidator.validate(b, b.segment(), RecordBatch.HEADER_SIZE, length, PLAIN, NOW);
            assertEquals(ErrorCode.INVALID_RECORD, verdict.errorCode(), "records cut at " + length);
        }
        assertTrue(RecordsValidator.validate(b, b.segment(), RecordBatch.HEADER_SIZE, section, PLAIN, NOW).isValid());
        Random random = new Random(7);
        int invalid = 0;
        for (int i = 0; i < 5000; i++) {
            byte[] copy = bytes.clone();
            for (int f = 1 + random.nextInt(3); f > 0; f--) {
                copy[RecordBatch.HEADER_SIZE + random.nextInt(section)] = (byte) random.nextInt(256);
            }
            RecordBatch mutated = new RecordBatch().wrap(memory.apply(copy), 0);
            if (!RecordsValidator.validate(mutated, PLAIN, NOW).isValid()) {
                invalid++;
            }
        }
        assertTrue(invalid > 500, "most random corruptions are caught: " + invalid);
    }

    @Test
    void aNegativeRecordCountIsInvalid() {
        RecordBatch b = batch(1, NOW, record(0, 0, K, V));
        b.segment().set(kiri.protocol.BigEndian.INT,
                RecordBatch.RECORD_COUNT_OFFSET, -1);
        assertMalformed(validate(b, PLAIN), "negative record count");
    }

    @Test
    void validatesARecordsSectionOutsideTheBatch() {
        byte[] section = ByteBuffer.allocate(0).array();
        RecordBatch header = batch(1, NOW, record(0, 0, K, V));
        byte[] r = record(0, 0, K, V);
        assertEquals(RecordsVerdict.VALID, RecordsValidator.validate(header, MemorySegment.ofArray(r), 0, r.length, PLAIN, NOW));
        assertMalformed(RecordsValidator.validate(header, MemorySegment.ofArray(section), 0, 0, PLAIN, NOW),
                "declares 1 records but holds 0");
    }
}
