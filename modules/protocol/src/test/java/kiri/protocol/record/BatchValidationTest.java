package kiri.protocol.record;

import static kiri.protocol.record.KafkaBatches.build;
import static kiri.protocol.record.KafkaBatches.bytes;
import static kiri.protocol.record.KafkaBatches.kafkaBatch;
import static kiri.protocol.record.KafkaBatches.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import kiri.protocol.BigEndian;
import kiri.protocol.ErrorCode;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.KafkaBatches.Memory;
import kiri.protocol.record.KafkaBatches.Spec;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What {@link RecordBatch#validate()} reports for damaged batches, and that nothing but ProtocolException escapes. */
class BatchValidationTest {
    private static final long T0 = 1_700_000_000_000L;

    /** A real batch with keys, null keys, headers and a producer id: every field kind is present. */
    private static byte[] realBatch() {
        Spec spec = new Spec(Compression.NONE, org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L,
                RecordBatch.NO_TIMESTAMP, 1000L, (short) 2, 30, false, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        return build(spec, List.of(
                new SimpleRecord(T0, utf8("key-1"), utf8("value one")),
                new SimpleRecord(T0 + 3, null, utf8("value two"), new Header[] {
                        new RecordHeader("h1", utf8("x")), new RecordHeader("h2", (byte[]) null)}),
                new SimpleRecord(T0 - 2, utf8("key-3"), null),
                new SimpleRecord(T0 + 1000, utf8("k4"), new byte[300])));
    }

    private static RecordBatch wrap(byte[] bytes) {
        return new RecordBatch().wrap(MemorySegment.ofArray(bytes), 0);
    }

    /** Iterates every record; returns the count. */
    private static int iterate(RecordBatch batch) {
        RecordCursor cursor = new RecordCursor().wrap(batch);
        int n = 0;
        while (cursor.next()) {
            cursor.key();
            cursor.value();
            while (cursor.nextHeader()) {
                cursor.headerKeyAsString();
                cursor.headerValue();
            }
            n++;
        }
        return n;
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void corruptingAnyCrcCoveredByteIsCorrupt(Memory memory) {
        byte[] original = realBatch();
        for (int i = RecordBatch.ATTRIBUTES_OFFSET; i < original.length; i++) {
            for (int flip : new int[] {0x01, 0x80, 0xff}) {
                byte[] damaged = original.clone();
                damaged[i] ^= (byte) flip;
                RecordBatch batch = new RecordBatch().wrap(memory.apply(damaged), 0);
                BatchStatus status = batch.validate();
                assertEquals(BatchStatus.CRC_MISMATCH, status, "byte " + i + " ^ " + flip);
                assertEquals(ErrorCode.CORRUPT_MESSAGE, status.errorCode());
                assertFalse(kafkaBatch(damaged).isValid(), "kafka-clients agrees about byte " + i);
            }
        }
    }

    @Test
    void corruptingTheStoredCrcIsCorrupt() {
        byte[] original = realBatch();
        for (int i = RecordBatch.CRC_OFFSET; i < RecordBatch.ATTRIBUTES_OFFSET; i++) {
            byte[] damaged = original.clone();
            damaged[i] ^= 0x10;
            assertEquals(BatchStatus.CRC_MISMATCH, wrap(damaged).validate(), "crc byte " + i);
            assertThrows(CorruptRecordException.class, () -> kafkaBatch(damaged).ensureValid());
        }
    }

    @Test
    void baseOffsetAndLeaderEpochAreOutsideTheCrc() {
        byte[] original = realBatch();
        for (int i = 0; i < RecordBatch.MAGIC_OFFSET; i++) {
            if (i >= RecordBatch.BATCH_LENGTH_OFFSET && i < RecordBatch.PARTITION_LEADER_EPOCH_OFFSET) {
                continue; // batchLength: see the truncation tests
            }
            byte[] changed = original.clone();
            changed[i] ^= 0x5a;
            assertEquals(BatchStatus.VALID, wrap(changed).validate(), "byte " + i);
        }
    }

    @Test
    void inPlaceSettersKeepTheBatchValidAndKafkaSeesThem() {
        byte[] bytes = realBatch();
        RecordBatch batch = wrap(bytes);
        long crcBefore = batch.crc();
        batch.baseOffset(1_000_000L).partitionLeaderEpoch(12);
        assertEquals(crcBefore, batch.crc());
        assertEquals(BatchStatus.VALID, batch.validate());
        MutableRecordBatch kafka = kafkaBatch(bytes);
        kafka.ensureValid();
        assertEquals(1_000_000L, kafka.baseOffset());
        assertEquals(1_000_003L, kafka.lastOffset());
        assertEquals(12, kafka.partitionLeaderEpoch());
        assertEquals(1_000_000L, kafka.iterator().next().offset());

        batch.maxTimestamp(TimestampType.LOG_APPEND_TIME, T0 + 777);
        assertNotEquals(crcBefore, batch.crc());
        assertEquals(BatchStatus.VALID, batch.validate());
        kafka = kafkaBatch(bytes);
        kafka.ensureValid();
        assertEquals(org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, kafka.timestampType());
        kafka.forEach(r -> assertEquals(T0 + 777, r.timestamp()));
        RecordCursor cursor = new RecordCursor().wrap(batch);
        while (cursor.next()) {
            assertEquals(T0 + 777, cursor.timestamp());
        }
    }

    @Test
    void writeCrcRepairsACrcCoveredChange() {
        byte[] bytes = realBatch();
        RecordBatch batch = wrap(bytes);
        MemorySegment.ofArray(bytes).set(BigEndian.SHORT, RecordBatch.PRODUCER_EPOCH_OFFSET, (short) 9);
        assertEquals(BatchStatus.CRC_MISMATCH, batch.validate());
        batch.writeCrc();
        assertEquals(BatchStatus.VALID, batch.validate());
        assertEquals(9, kafkaBatch(bytes).producerEpoch());
        kafkaBatch(bytes).ensureValid();
    }

    @ParameterizedTest
    @EnumSource(Memory.class)
    void truncationAtEveryOffsetFailsCleanly(Memory memory) {
        byte[] original = realBatch();
        for (int n = 0; n < original.length; n++) {
            MemorySegment cut = memory.apply(original).asSlice(0, n);
            RecordBatch batch = new RecordBatch().wrap(cut, 0);
            BatchStatus status;
            try {
                status = batch.validate();
            } catch (RuntimeException e) {
                throw new AssertionError("validate() threw on " + n + " bytes", e);
            }
            assertEquals(BatchStatus.TRUNCATED, status, n + " bytes");
            assertEquals(ErrorCode.INVALID_RECORD, status.errorCode());
            assertThrows(ProtocolException.class, () -> iterate(batch), n + " bytes");
            assertEquals(n == 0 ? 0 : 1, BatchCursor.count(cut), "a cut batch is still handed out once, " + n + " bytes");
            assertTrue(kafkaBatches(cut).isEmpty(), "kafka-clients sees no whole batch either");
        }
    }

    private static List<org.apache.kafka.common.record.RecordBatch> kafkaBatches(MemorySegment cut) {
        return KafkaBatches.kafkaBatches(bytes(cut));
    }

    /**
     * A batch cut short whose batchLength and CRC are fixed up to match passes the header checks;
     * record iteration must then find the damage and report it as a ProtocolException.
     */
    @Test
    void consistentlyTruncatedRecordsFailAsProtocolException() {
        byte[] original = realBatch();
        for (int n = RecordBatch.HEADER_SIZE; n < original.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(original, n);
            RecordBatch batch = wrap(cut);
            MemorySegment.ofArray(cut).set(BigEndian.INT, RecordBatch.BATCH_LENGTH_OFFSET, n - RecordBatch.LOG_OVERHEAD);
            batch.writeCrc();
            assertEquals(BatchStatus.VALID, batch.validate(), "header checks pass at " + n);
            ProtocolException e = assertThrows(ProtocolException.class, () -> iterate(batch), n + " bytes");
            assertTrue(e.getMessage().contains("offset"), e.getMessage());
        }
    }

    @Test
    void batchLengthBelowTheHeaderIsCorrupt() {
        for (int length : new int[] {Integer.MIN_VALUE, -1, 0, 13, 14, 30, RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD - 1}) {
            byte[] bytes = realBatch();
            MemorySegment.ofArray(bytes).set(BigEndian.INT, RecordBatch.BATCH_LENGTH_OFFSET, length);
            BatchStatus status = wrap(bytes).validate();
            assertEquals(BatchStatus.LENGTH_TOO_SMALL, status, "batchLength " + length);
            assertEquals(ErrorCode.CORRUPT_MESSAGE, status.errorCode());
            assertThrows(ProtocolException.class, () -> iterate(wrap(bytes)));
        }
    }

    @Test
    void batchLengthBeyondTheBytesIsTruncated() {
        for (int length : new int[] {Integer.MAX_VALUE, 100_000}) {
            byte[] bytes = realBatch();
            MemorySegment.ofArray(bytes).set(BigEndian.INT, RecordBatch.BATCH_LENGTH_OFFSET, length);
            assertEquals(BatchStatus.TRUNCATED, wrap(bytes).validate());
            assertThrows(ProtocolException.class, () -> iterate(wrap(bytes)));
        }
    }

    @Test
    void magicOtherThanTwoIsRejected() {
        for (byte magic : new byte[] {0, 1, 3, -1}) {
            byte[] bytes = realBatch();
            bytes[RecordBatch.MAGIC_OFFSET] = magic;
            BatchStatus status = wrap(bytes).validate();
            assertEquals(BatchStatus.UNSUPPORTED_MAGIC, status, "magic " + magic);
            assertEquals(ErrorCode.INVALID_RECORD, status.errorCode());
            assertThrows(ProtocolException.class, () -> iterate(wrap(bytes)));
        }
        byte[] legacy = bytes(MemoryRecords.withRecords(org.apache.kafka.common.record.RecordBatch.MAGIC_VALUE_V1,
                Compression.NONE, new SimpleRecord(T0, utf8("k"), utf8("a value long enough for the header"))).buffer());
        assertEquals(BatchStatus.UNSUPPORTED_MAGIC, wrap(legacy).validate());
    }

    /** Rewrites an int32 header field and the CRC, so that only the field itself is wrong. */
    private static byte[] withField(int fieldOffset, int value) {
        byte[] bytes = realBatch();
        MemorySegment.ofArray(bytes).set(BigEndian.INT, fieldOffset, value);
        wrap(bytes).writeCrc();
        return bytes;
    }

    @Test
    void lastOffsetDeltaMismatchIsInvalidRecord() {
        for (int delta : new int[] {0, 2, 4, 1000}) {
            BatchStatus status = wrap(withField(RecordBatch.LAST_OFFSET_DELTA_OFFSET, delta)).validate();
            assertEquals(BatchStatus.RECORD_COUNT_MISMATCH, status, "lastOffsetDelta " + delta);
            assertEquals(ErrorCode.INVALID_RECORD, status.errorCode());
        }
        for (int delta : new int[] {-1, -2, Integer.MIN_VALUE}) {
            BatchStatus status = wrap(withField(RecordBatch.LAST_OFFSET_DELTA_OFFSET, delta)).validate();
            assertEquals(BatchStatus.INVALID_OFFSET_RANGE, status, "lastOffsetDelta " + delta);
            assertEquals(ErrorCode.INVALID_RECORD, status.errorCode());
        }
        // Integer.MAX_VALUE + 1 must not overflow into a small count
        assertEquals(BatchStatus.RECORD_COUNT_MISMATCH,
                wrap(withField(RecordBatch.LAST_OFFSET_DELTA_OFFSET, Integer.MAX_VALUE)).validate());
    }

    @Test
    void recordCountOutOfRangeIsInvalidRecord() {
        for (int count : new int[] {0, -1, Integer.MIN_VALUE}) {
            BatchStatus status = wrap(withField(RecordBatch.RECORD_COUNT_OFFSET, count)).validate();
            assertEquals(BatchStatus.INVALID_RECORD_COUNT, status, "recordCount " + count);
            assertEquals(ErrorCode.INVALID_RECORD, status.errorCode());
        }
        assertEquals(BatchStatus.RECORD_COUNT_MISMATCH, wrap(withField(RecordBatch.RECORD_COUNT_OFFSET, 5)).validate());
        byte[] negative = withField(RecordBatch.RECORD_COUNT_OFFSET, -1);
        assertThrows(ProtocolException.class, () -> iterate(wrap(negative)));
    }

    @Test
    void recordCountDisagreeingWithTheBytesFailsIteration() {
        // Count and lastOffsetDelta agree with each other (the batch validates), not with the records present.
        for (int count : new int[] {3, 5, 100}) {
            byte[] bytes = realBatch();
            MemorySegment s = MemorySegment.ofArray(bytes);
            s.set(BigEndian.INT, RecordBatch.RECORD_COUNT_OFFSET, count);
            s.set(BigEndian.INT, RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
            wrap(bytes).writeCrc();
            assertEquals(BatchStatus.VALID, wrap(bytes).validate());
            ProtocolException e = assertThrows(ProtocolException.class, () -> iterate(wrap(bytes)), "count " + count);
            assertTrue(e.getMessage().contains("offset"), e.getMessage());
        }
    }

    @Test
    void compressedBatchesAreCheckedAlike() {
        Spec gzip = new Spec(Compression.gzip().build(), org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L,
                RecordBatch.NO_TIMESTAMP, -1L, (short) -1, -1, false, -1);
        byte[] bytes = build(gzip, List.of(new SimpleRecord(T0, utf8("a"), utf8("1")), new SimpleRecord(T0, utf8("b"), utf8("2"))));
        RecordBatch batch = wrap(bytes);
        assertEquals(BatchStatus.VALID, batch.validate());
        assertEquals(CompressionType.GZIP, batch.compressionType());
        assertTrue(batch.isCompressed());
        KafkaBatches.assertSameHeader(kafkaBatch(bytes), batch);
        ProtocolException e = assertThrows(ProtocolException.class, () -> new RecordCursor().wrap(batch));
        assertTrue(e.getMessage().contains("compressed batches not supported for record iteration"), e.getMessage());

        MemorySegment.ofArray(bytes).set(BigEndian.INT, RecordBatch.LAST_OFFSET_DELTA_OFFSET, 0);
        batch.writeCrc();
        assertEquals(BatchStatus.RECORD_COUNT_MISMATCH, batch.validate());
    }

    @Test
    void unknownCompressionIdIsInvalidRecord() {
        for (int id = 5; id <= 7; id++) {
            byte[] bytes = realBatch();
            RecordBatch batch = wrap(bytes);
            MemorySegment.ofArray(bytes).set(BigEndian.SHORT, RecordBatch.ATTRIBUTES_OFFSET, (short) id);
            batch.writeCrc();
            assertEquals(id, batch.compressionId());
            assertEquals(null, batch.compressionType());
            assertEquals(BatchStatus.UNKNOWN_COMPRESSION, batch.validate());
            assertThrows(ProtocolException.class, () -> new RecordCursor().wrap(batch));
        }
    }

    @Test
    void produceChecksSizeBeforeCrcThenControlAndSequence() {
        byte[] bytes = realBatch();
        assertEquals(BatchStatus.VALID, wrap(bytes).validateForProduce(bytes.length));
        assertEquals(BatchStatus.TOO_LARGE, wrap(bytes).validateForProduce(bytes.length - 1));
        assertEquals(ErrorCode.MESSAGE_TOO_LARGE, BatchStatus.TOO_LARGE.errorCode());
        byte[] corrupt = bytes.clone();
        corrupt[corrupt.length - 1] ^= 1;
        assertEquals(BatchStatus.TOO_LARGE, wrap(corrupt).validateForProduce(10), "size is checked before the CRC, as Kafka does");
        assertEquals(BatchStatus.CRC_MISMATCH, wrap(corrupt).validateForProduce(Integer.MAX_VALUE));

        byte[] marker = bytes(MemoryRecords.withEndTransactionMarker(0L, T0, 0, 5L, (short) 1,
                new EndTransactionMarker(ControlRecordType.COMMIT, 1)).buffer());
        assertEquals(BatchStatus.VALID, wrap(marker).validate(), "a marker is a valid batch");
        assertEquals(BatchStatus.CONTROL_BATCH_NOT_ALLOWED, wrap(marker).validateForProduce(Integer.MAX_VALUE));

        byte[] noSequence = realBatch();
        MemorySegment.ofArray(noSequence).set(BigEndian.INT, RecordBatch.BASE_SEQUENCE_OFFSET, -1);
        wrap(noSequence).writeCrc();
        assertEquals(BatchStatus.VALID, wrap(noSequence).validate());
        assertEquals(BatchStatus.INVALID_SEQUENCE, wrap(noSequence).validateForProduce(Integer.MAX_VALUE));
        for (BatchStatus s : BatchStatus.values()) {
            assertEquals(s == BatchStatus.VALID, s.isValid());
            assertEquals(s == BatchStatus.VALID, s.errorCode() == ErrorCode.NONE);
            assertFalse(s.message().isBlank());
        }
    }

    /** Random damage to the records region, CRC fixed up: only ProtocolException may escape iteration. */
    @ParameterizedTest
    @EnumSource(Memory.class)
    void mutatedRecordsOnlyEverThrowProtocolException(Memory memory) {
        byte[] original = realBatch();
        Random random = new Random(7);
        int protocolErrors = 0;
        for (int round = 0; round < 5000; round++) {
            byte[] bytes = original.clone();
            int changes = 1 + random.nextInt(4);
            for (int c = 0; c < changes; c++) {
                int at = RecordBatch.HEADER_SIZE + random.nextInt(bytes.length - RecordBatch.HEADER_SIZE);
                bytes[at] = (byte) (random.nextBoolean() ? random.nextInt(256) : bytes[at] ^ (1 << random.nextInt(8)));
            }
            RecordBatch batch = new RecordBatch().wrap(memory.apply(bytes), 0);
            batch.writeCrc();
            assertEquals(BatchStatus.VALID, batch.validate());
            try {
                iterate(batch);
            } catch (ProtocolException e) {
                protocolErrors++;
            } catch (RuntimeException e) {
                fail("round " + round + ": " + e, e);
            }
        }
        // Damage inside key/value bytes is undetectable by design; damage to lengths and varints is not.
        assertTrue(protocolErrors > 500 && protocolErrors < 5000, "caught " + protocolErrors + " of 5000");
    }

    /** Random bytes of every short length: validate() never throws and never calls garbage valid. */
    @Test
    void randomBytesNeverThrowFromValidate() {
        Random random = new Random(11);
        Set<BatchStatus> seen = EnumSet.noneOf(BatchStatus.class);
        for (int round = 0; round < 20_000; round++) {
            byte[] bytes = new byte[random.nextInt(120)];
            random.nextBytes(bytes);
            int mode = random.nextInt(3);
            if (mode > 0 && bytes.length > RecordBatch.HEADER_SIZE_UP_TO_MAGIC) {
                // a plausible length, so that the later checks are reached too
                ByteBuffer.wrap(bytes).putInt(RecordBatch.BATCH_LENGTH_OFFSET, bytes.length - 12 - random.nextInt(2));
                if (mode == 2) {
                    bytes[RecordBatch.MAGIC_OFFSET] = 2;
                }
            }
            BatchStatus status = wrap(bytes).validate();
            assertNotEquals(BatchStatus.VALID, status);
            seen.add(status);
            BatchCursor.count(MemorySegment.ofArray(bytes));
        }
        assertEquals(EnumSet.of(BatchStatus.CRC_MISMATCH, BatchStatus.TRUNCATED, BatchStatus.UNSUPPORTED_MAGIC,
                BatchStatus.LENGTH_TOO_SMALL), seen);
    }
}
