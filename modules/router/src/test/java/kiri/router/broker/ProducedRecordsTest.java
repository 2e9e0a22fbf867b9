package kiri.router.broker;

import static kiri.protocol.BigEndian.INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import kiri.compress.BatchCompression;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.Header;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordBatchBuilder;
import kiri.protocol.record.RecordsValidator;
import kiri.protocol.record.RecordsVerdict;
import kiri.storage.api.TopicInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link ProducedRecords}: compressed batches are validated on their decompressed records; the topic's configs are the policy. */
class ProducedRecordsTest {
    private static final RecordsValidator.Policy PLAIN = ProducedRecords.parse(topic(Map.of()), 0);

    private static TopicInfo topic(Map<String, String> configs) {
        return new TopicInfo("t", UUID.randomUUID(), List.of(), (short) 1, configs);
    }

    /** An uncompressed batch of {@code count} records, every third without a key. */
    private static MemorySegment plain(int count) {
        MemorySegment buffer = MemorySegment.ofArray(new byte[64 * 1024]);
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(buffer, 0);
        long now = System.currentTimeMillis();
        for (int i = 0; i < count; i++) {
            builder.append(now, i % 3 == 0 ? null : ("k" + i).getBytes(StandardCharsets.UTF_8), new byte[100],
                    List.of(Header.of("h", "v".getBytes(StandardCharsets.UTF_8))));
        }
        return buffer.asSlice(0, builder.build());
    }

    /** A copy claiming {@code count} records (recordCount, lastOffsetDelta), its CRC rewritten. */
    private static MemorySegment claiming(MemorySegment batch, int count) {
        MemorySegment copy = MemorySegment.ofArray(batch.toArray(ValueLayout.JAVA_BYTE));
        copy.set(INT, RecordBatch.RECORD_COUNT_OFFSET, count);
        copy.set(INT, RecordBatch.LAST_OFFSET_DELTA_OFFSET, count - 1);
        new RecordBatch().wrap(copy, 0).writeCrc();
        return copy;
    }

    private static RecordsVerdict validate(MemorySegment batch, RecordsValidator.Policy policy) {
        RecordBatch b = new RecordBatch().wrap(batch, 0);
        assertTrue(b.validateForProduce(Long.MAX_VALUE).isValid(), "the header is valid: " + b);
        return ProducedRecords.validate(b, policy, System.currentTimeMillis());
    }

    @ParameterizedTest
    @EnumSource(CompressionType.class)
    void compressedBatchesAreValidatedOnTheirRecords(CompressionType codec) {
        assertEquals(RecordsVerdict.VALID, validate(BatchCompression.compress(plain(30), codec), PLAIN));
        RecordsVerdict poisoned = validate(BatchCompression.compress(claiming(plain(1), 1_000_000), codec), PLAIN);
        assertEquals(ErrorCode.INVALID_RECORD, poisoned.errorCode());
        assertTrue(poisoned.message().contains("declares 1000000 records but holds 1"), poisoned.message());
        RecordsValidator.Policy compacted = ProducedRecords.parse(topic(Map.of("cleanup.policy", "compact")), 0);
        RecordsVerdict keyless = validate(BatchCompression.compress(plain(7), codec), compacted);
        assertEquals(ErrorCode.INVALID_RECORD, keyless.errorCode());
        assertEquals(List.of(0, 3, 6), keyless.recordErrors().stream().map(RecordsVerdict.RecordError::batchIndex).toList());
    }

    @ParameterizedTest
    @EnumSource(value = CompressionType.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void corruptCompressedRecordsAreInvalidRecordNeverAnException(CompressionType codec) {
        MemorySegment good = BatchCompression.compress(plain(30), codec);
        byte[] bytes = good.toArray(ValueLayout.JAVA_BYTE);
        Random random = new Random(11);
        int invalid = 0;
        for (int i = 0; i < 300; i++) {
            byte[] copy = bytes.clone();
            for (int f = 1 + random.nextInt(3); f > 0; f--) {
                copy[RecordBatch.HEADER_SIZE + random.nextInt(copy.length - RecordBatch.HEADER_SIZE)] = (byte) random.nextInt(256);
            }
            MemorySegment corrupted = MemorySegment.ofArray(copy);
            new RecordBatch().wrap(corrupted, 0).writeCrc(); // corrupt as compressed by the client: the CRC matches
            RecordsVerdict verdict = validate(corrupted, PLAIN);
            if (!verdict.isValid()) {
                invalid++;
                assertEquals(ErrorCode.INVALID_RECORD, verdict.errorCode(), verdict.message());
                assertTrue(verdict.message().endsWith("in topic partition t-0"), verdict.message());
            }
        }
        assertTrue(invalid > 100, codec + ": most corruptions are refused: " + invalid);
        // cut short: the compressed stream ends early
        MemorySegment cut = MemorySegment.ofArray(java.util.Arrays.copyOf(bytes, bytes.length - 10));
        cut.set(INT, RecordBatch.BATCH_LENGTH_OFFSET, bytes.length - 10 - RecordBatch.LOG_OVERHEAD);
        new RecordBatch().wrap(cut, 0).writeCrc();
        assertEquals(ErrorCode.INVALID_RECORD, validate(cut, PLAIN).errorCode());
    }

    @Test
    void aBatchDecompressingBeyondTheCapIsRefused() {
        // 2 MiB of records that gzip to a few KiB, against a 1 MiB cap
        MemorySegment buffer = MemorySegment.ofArray(new byte[2_200_000]);
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(buffer, 0);
        for (int i = 0; i < 2048; i++) {
            builder.append(System.currentTimeMillis(), null, new byte[1024]);
        }
        MemorySegment bomb = BatchCompression.compress(buffer.asSlice(0, builder.build()), CompressionType.GZIP);
        assertTrue(bomb.byteSize() < 64 * 1024, "compresses well: " + bomb.byteSize());
        RecordBatch b = new RecordBatch().wrap(bomb, 0);
        long now = System.currentTimeMillis();
        assertEquals(RecordsVerdict.VALID, ProducedRecords.validate(b, PLAIN, now, 4 << 20));
        RecordsVerdict verdict = ProducedRecords.validate(b, PLAIN, now, 1 << 20);
        assertEquals(ErrorCode.INVALID_RECORD, verdict.errorCode());
        assertTrue(verdict.message().contains("1048576"), verdict.message());
    }

    @Test
    void policyFollowsTheTopicsConfigs() {
        assertFalse(PLAIN.keyRequired());
        assertFalse(PLAIN.logAppendTime());
        assertEquals(Long.MAX_VALUE, PLAIN.timestampBeforeMaxMs());
        assertEquals(3_600_000L, PLAIN.timestampAfterMaxMs(), "Kafka 4's default message.timestamp.after.max.ms");
        RecordsValidator.Policy p = ProducedRecords.parse(topic(Map.of("cleanup.policy", "delete,compact",
                "message.timestamp.type", "LogAppendTime", "message.timestamp.before.max.ms", "5",
                "message.timestamp.after.max.ms", "6")), 3);
        assertTrue(p.keyRequired());
        assertTrue(p.logAppendTime());
        assertEquals(5L, p.timestampBeforeMaxMs());
        assertEquals(6L, p.timestampAfterMaxMs());
        assertEquals("t-3", p.partitionName());
        assertFalse(ProducedRecords.parse(topic(Map.of("cleanup.policy", "delete")), 0).keyRequired());
    }

    @Test
    void policiesAreCachedPerTopicInstance() {
        ProducedRecords records = new ProducedRecords();
        TopicInfo plain = topic(Map.of());
        RecordsValidator.Policy first = records.policy(plain, 0);
        assertSame(first, records.policy(plain, 0), "parsed once");
        assertEquals(2, records.policy(plain, 2).partition());
        TopicInfo altered = new TopicInfo("t", plain.id(), List.of(), (short) 1, Map.of("cleanup.policy", "compact"));
        assertTrue(records.policy(altered, 0).keyRequired(), "a changed topic is parsed again");
    }
}
