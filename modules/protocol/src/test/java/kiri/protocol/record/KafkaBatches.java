package kiri.protocol.record;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.SimpleRecord;

/** Test helpers: batches built by kafka-clients, and field-by-field comparison with Kiri's view. */
final class KafkaBatches {
    private KafkaBatches() {
    }

    /** How a test holds batch bytes: both kinds of segment must behave the same. */
    enum Memory implements Function<byte[], MemorySegment> {
        HEAP {
            @Override
            public MemorySegment apply(byte[] bytes) {
                return MemorySegment.ofArray(bytes.clone());
            }
        },
        NATIVE {
            @Override
            public MemorySegment apply(byte[] bytes) {
                MemorySegment s = Arena.ofAuto().allocate(bytes.length);
                MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
                return s;
            }
        }
    }

    /** Producer-side settings of a Kafka-built batch. */
    record Spec(Compression compression, org.apache.kafka.common.record.TimestampType timestampType, long baseOffset,
                long logAppendTime, long producerId, short producerEpoch, int baseSequence, boolean transactional,
                int partitionLeaderEpoch) {
        static Spec plain() {
            return new Spec(Compression.NONE, org.apache.kafka.common.record.TimestampType.CREATE_TIME, 0L,
                    RecordBatch.NO_TIMESTAMP, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
                    RecordBatch.NO_SEQUENCE, false, RecordBatch.NO_PARTITION_LEADER_EPOCH);
        }
    }

    static byte[] build(Spec spec, List<SimpleRecord> records) {
        ByteBuffer buffer = ByteBuffer.allocate(1024 + records.stream()
                .mapToInt(r -> 64 + size(r.key()) + size(r.value()) + 64 * r.headers().length
                        + java.util.Arrays.stream(r.headers()).mapToInt(h -> h.key().length() * 3 + size(h.value())).sum())
                .sum());
        MemoryRecordsBuilder builder = MemoryRecords.builder(buffer, org.apache.kafka.common.record.RecordBatch.MAGIC_VALUE_V2,
                spec.compression(), spec.timestampType(), spec.baseOffset(), spec.logAppendTime(), spec.producerId(),
                spec.producerEpoch(), spec.baseSequence(), spec.transactional(), spec.partitionLeaderEpoch());
        for (SimpleRecord r : records) {
            builder.append(r);
        }
        return bytes(builder.build().buffer());
    }

    private static int size(ByteBuffer b) {
        return b == null ? 0 : b.remaining();
    }

    private static int size(byte[] b) {
        return b == null ? 0 : b.length;
    }

    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    static byte[] bytes(MemorySegment segment) {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The single batch Kafka reads from {@code batch}'s bytes. */
    static MutableRecordBatch kafkaBatch(byte[] batch) {
        Iterator<MutableRecordBatch> it = MemoryRecords.readableRecords(ByteBuffer.wrap(batch.clone())).batches().iterator();
        assertTrue(it.hasNext(), "kafka-clients finds no batch");
        MutableRecordBatch first = it.next();
        assertFalse(it.hasNext(), "kafka-clients finds more than one batch");
        return first;
    }

    static void assertSameHeader(org.apache.kafka.common.record.RecordBatch kafka, RecordBatch kiri) {
        assertEquals(kafka.baseOffset(), kiri.baseOffset(), "baseOffset");
        assertEquals(kafka.sizeInBytes() - RecordBatch.LOG_OVERHEAD, kiri.batchLength(), "batchLength");
        assertEquals(kafka.sizeInBytes(), kiri.sizeInBytes(), "sizeInBytes");
        assertEquals(kafka.partitionLeaderEpoch(), kiri.partitionLeaderEpoch(), "partitionLeaderEpoch");
        assertEquals(kafka.magic(), kiri.magic(), "magic");
        assertEquals(kafka.checksum(), kiri.crc(), "crc");
        assertEquals(kafka.checksum(), kiri.computeCrc(), "computed crc");
        assertEquals(kafka.compressionType().id, kiri.compressionId(), "compression id");
        assertEquals(kafka.compressionType().name(), kiri.compressionType().name(), "compression");
        assertEquals(kafka.timestampType().name(), kiri.timestampType().name(), "timestampType");
        assertEquals(kafka.isTransactional(), kiri.isTransactional(), "transactional");
        assertEquals(kafka.isControlBatch(), kiri.isControl(), "control");
        assertEquals(kafka.deleteHorizonMs().isPresent(), kiri.hasDeleteHorizon(), "delete horizon");
        assertEquals(kafka.lastOffset() - kafka.baseOffset(), kiri.lastOffsetDelta(), "lastOffsetDelta");
        assertEquals(kafka.lastOffset(), kiri.lastOffset(), "lastOffset");
        assertEquals(((org.apache.kafka.common.record.DefaultRecordBatch) kafka).baseTimestamp(), kiri.baseTimestamp(),
                "baseTimestamp");
        assertEquals(kafka.maxTimestamp(), kiri.maxTimestamp(), "maxTimestamp");
        assertEquals(kafka.producerId(), kiri.producerId(), "producerId");
        assertEquals(kafka.hasProducerId(), kiri.hasProducerId(), "hasProducerId");
        assertEquals(kafka.producerEpoch(), kiri.producerEpoch(), "producerEpoch");
        assertEquals(kafka.baseSequence(), kiri.baseSequence(), "baseSequence");
        assertEquals(kafka.countOrNull(), kiri.recordCount(), "recordCount");
    }

    /** Every record of Kafka's batch equals the one Kiri's cursor shows at the same position. */
    static int assertSameRecords(org.apache.kafka.common.record.RecordBatch kafka, RecordBatch kiri) {
        RecordCursor cursor = new RecordCursor().wrap(kiri);
        int n = 0;
        for (Record expected : kafka) {
            assertTrue(cursor.next(), "Kiri ends after " + n + " records");
            assertEquals(n, cursor.index());
            assertEquals(expected.offset(), cursor.offset(), "offset of record " + n);
            assertEquals(expected.offset() - kafka.baseOffset(), cursor.offsetDelta());
            assertEquals(expected.timestamp(), cursor.timestamp(), "timestamp of record " + n);
            assertEquals(expected.sizeInBytes(), cursor.sizeInBytes(), "size of record " + n);
            assertEquals(expected.hasKey(), cursor.hasKey());
            assertEquals(expected.keySize(), cursor.keyLength());
            assertArrayEquals(expected.hasKey() ? bytes(expected.key()) : null, bytesOrNull(cursor.key()), "key of record " + n);
            assertEquals(expected.hasValue(), cursor.hasValue());
            assertEquals(expected.valueSize(), cursor.valueLength());
            assertArrayEquals(expected.hasValue() ? bytes(expected.value()) : null, bytesOrNull(cursor.value()),
                    "value of record " + n);
            Header[] headers = expected.headers();
            assertEquals(headers.length, cursor.headerCount(), "header count of record " + n);
            for (Header h : headers) {
                assertTrue(cursor.nextHeader());
                assertEquals(h.key(), cursor.headerKeyAsString());
                assertArrayEquals(utf8(h.key()), bytes(cursor.headerKey()));
                assertArrayEquals(h.value(), bytesOrNull(cursor.headerValue()), "header " + h.key());
                assertEquals(h.value() == null ? -1 : h.value().length, cursor.headerValueLength());
            }
            assertFalse(cursor.nextHeader());
            n++;
        }
        assertFalse(cursor.next(), "Kiri has more records than Kafka");
        assertFalse(cursor.next(), "next() after the end stays false");
        return n;
    }

    static byte[] bytesOrNull(MemorySegment s) {
        return s == null ? null : bytes(s);
    }

    static List<org.apache.kafka.common.record.RecordBatch> kafkaBatches(byte[] region) {
        List<org.apache.kafka.common.record.RecordBatch> out = new ArrayList<>();
        MemoryRecords.readableRecords(ByteBuffer.wrap(region)).batches().forEach(out::add);
        return out;
    }
}
