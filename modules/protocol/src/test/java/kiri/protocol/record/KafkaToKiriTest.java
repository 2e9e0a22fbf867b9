package kiri.protocol.record;

import static kiri.protocol.record.KafkaBatches.assertSameHeader;
import static kiri.protocol.record.KafkaBatches.assertSameRecords;
import static kiri.protocol.record.KafkaBatches.build;
import static kiri.protocol.record.KafkaBatches.kafkaBatch;
import static kiri.protocol.record.KafkaBatches.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import kiri.protocol.record.KafkaBatches.Memory;
import kiri.protocol.record.KafkaBatches.Spec;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Batches written by kafka-clients read the same through Kiri's flyweights, on heap and off heap. */
class KafkaToKiriTest {
    private static final long T0 = 1_700_000_000_000L;

    record Scenario(String name, byte[] batch, int records) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Scenario> scenarios() {
        List<Scenario> all = new ArrayList<>();
        all.add(scenario("one record with key and value", Spec.plain(),
                List.of(new SimpleRecord(T0, utf8("key"), utf8("value")))));
        all.add(scenario("null key", Spec.plain(), List.of(new SimpleRecord(T0, null, utf8("v")))));
        all.add(scenario("null value (tombstone)", Spec.plain(), List.of(new SimpleRecord(T0, utf8("k"), null))));
        all.add(scenario("null key and value", Spec.plain(), List.of(new SimpleRecord(T0, (byte[]) null, null))));
        all.add(scenario("empty key and value", Spec.plain(), List.of(new SimpleRecord(T0, new byte[0], new byte[0]))));
        all.add(scenario("headers", Spec.plain(), List.of(
                new SimpleRecord(T0, utf8("k"), utf8("v"), new Header[] {
                        new RecordHeader("trace-id", utf8("abc123")),
                        new RecordHeader("null-value", (byte[]) null),
                        new RecordHeader("empty", new byte[0]),
                        new RecordHeader("ключ-ü-😀", utf8("non-ascii key")),
                        new RecordHeader("trace-id", utf8("duplicate keys are allowed"))}),
                new SimpleRecord(T0 + 1, null, utf8("no headers")),
                new SimpleRecord(T0 + 2, utf8("k2"), null, new Header[] {new RecordHeader("h", utf8("x"))}))));
        Random random = new Random(42);
        List<SimpleRecord> many = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            byte[] value = new byte[random.nextInt(300)];
            random.nextBytes(value);
            byte[] key = i % 7 == 0 ? null : utf8("key-" + i);
            // timestamps go back and forth: negative deltas are legal
            many.add(new SimpleRecord(T0 + random.nextInt(20_000) - 10_000, key, value,
                    i % 5 == 0 ? new Header[] {new RecordHeader("i", utf8(Integer.toString(i)))} : new Header[0]));
        }
        all.add(scenario("500 records, mixed sizes and timestamps", Spec.plain(), many));
        byte[] big = new byte[100_000];
        random.nextBytes(big);
        all.add(scenario("100 KB value (multi-byte varints)", Spec.plain(), List.of(new SimpleRecord(T0, utf8("big"), big))));
        all.add(scenario("no timestamps", Spec.plain(), List.of(
                new SimpleRecord(RecordBatch.NO_TIMESTAMP, utf8("a"), utf8("b")),
                new SimpleRecord(RecordBatch.NO_TIMESTAMP, utf8("c"), utf8("d")))));
        Spec idempotent = new Spec(org.apache.kafka.common.compress.Compression.NONE,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP,
                123_456_789L, (short) 7, 42, false, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        all.add(scenario("idempotent producer", idempotent, List.of(
                new SimpleRecord(T0, utf8("k1"), utf8("v1")), new SimpleRecord(T0 + 5, utf8("k2"), utf8("v2")))));
        Spec transactional = new Spec(org.apache.kafka.common.compress.Compression.NONE,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L, RecordBatch.NO_TIMESTAMP,
                Long.MAX_VALUE - 1, Short.MAX_VALUE, Integer.MAX_VALUE - 3, true, 5);
        all.add(scenario("transactional producer", transactional, List.of(
                new SimpleRecord(T0, utf8("k1"), utf8("v1")), new SimpleRecord(T0 - 5, utf8("k2"), utf8("v2")),
                new SimpleRecord(T0 + 9, null, utf8("v3")))));
        Spec stored = new Spec(org.apache.kafka.common.compress.Compression.NONE,
                org.apache.kafka.common.record.TimestampType.CREATE_TIME, 9_876_543_210L, RecordBatch.NO_TIMESTAMP,
                RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, false, 17);
        all.add(scenario("assigned base offset and leader epoch", stored, List.of(
                new SimpleRecord(T0, utf8("k"), utf8("v")), new SimpleRecord(T0, utf8("k"), utf8("v")))));
        Spec logAppend = new Spec(org.apache.kafka.common.compress.Compression.NONE,
                org.apache.kafka.common.record.TimestampType.LOG_APPEND_TIME, 0L, T0 + 99_999,
                RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH, RecordBatch.NO_SEQUENCE, false, 0);
        all.add(scenario("LOG_APPEND_TIME", logAppend, List.of(
                new SimpleRecord(T0, utf8("k"), utf8("v")), new SimpleRecord(T0 + 1, utf8("k"), utf8("v")))));
        for (ControlRecordType type : new ControlRecordType[] {ControlRecordType.COMMIT, ControlRecordType.ABORT}) {
            MemoryRecords marker = MemoryRecords.withEndTransactionMarker(1234L, T0, 3, 555L, (short) 2,
                    new EndTransactionMarker(type, 77));
            all.add(new Scenario(type + " marker", KafkaBatches.bytes(marker.buffer()), 1));
        }
        all.add(new Scenario("MemoryRecords.withRecords", KafkaBatches.bytes(MemoryRecords.withRecords(
                org.apache.kafka.common.compress.Compression.NONE,
                new SimpleRecord(T0, utf8("a"), utf8("1")), new SimpleRecord(T0, utf8("b"), utf8("2"))).buffer()), 2));
        return all.stream();
    }

    private static Scenario scenario(String name, Spec spec, List<SimpleRecord> records) {
        return new Scenario(name, build(spec, records), records.size());
    }

    static Stream<Arguments> cases() {
        return scenarios().flatMap(s -> Stream.of(Memory.values()).map(m -> Arguments.of(s, m)));
    }

    @ParameterizedTest(name = "{0} ({1})")
    @MethodSource("cases")
    void headerFieldsAndRecordsMatchKafka(Scenario scenario, Memory memory) {
        MemorySegment segment = memory.apply(scenario.batch());
        RecordBatch batch = new RecordBatch().wrap(segment, 0);
        org.apache.kafka.common.record.RecordBatch kafka = kafkaBatch(scenario.batch());
        kafka.ensureValid();

        assertEquals(BatchStatus.VALID, batch.validate());
        assertEquals(BatchStatus.VALID.errorCode(), batch.validate().errorCode());
        assertTrue(batch.isCrcValid());
        assertEquals(scenario.batch().length, batch.sizeInBytes());
        assertSameHeader(kafka, batch);
        assertEquals(scenario.records(), assertSameRecords(kafka, batch));
    }

    @ParameterizedTest(name = "{0} ({1})")
    @MethodSource("cases")
    void batchAtANonZeroOffsetOfALargerSegment(Scenario scenario, Memory memory) {
        byte[] padded = new byte[scenario.batch().length + 100];
        System.arraycopy(scenario.batch(), 0, padded, 37, scenario.batch().length);
        MemorySegment segment = memory.apply(padded);
        RecordBatch batch = new RecordBatch().wrap(segment, 37);
        org.apache.kafka.common.record.RecordBatch kafka = kafkaBatch(scenario.batch());

        assertEquals(BatchStatus.VALID, batch.validate());
        assertSameHeader(kafka, batch);
        assertEquals(scenario.records(), assertSameRecords(kafka, batch));
        assertEquals(ByteBuffer.wrap(scenario.batch()), batch.asSlice().asByteBuffer());
    }
}
