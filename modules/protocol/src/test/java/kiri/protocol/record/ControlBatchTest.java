package kiri.protocol.record;

import static kiri.protocol.record.KafkaBatches.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import kiri.protocol.ProtocolException;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** COMMIT/ABORT markers, written by Kiri and by Kafka. */
class ControlBatchTest {
    private static final long T0 = 1_700_000_000_000L;

    private static org.apache.kafka.common.record.ControlRecordType kafkaType(ControlRecordType type) {
        return org.apache.kafka.common.record.ControlRecordType.valueOf(type.name());
    }

    @ParameterizedTest
    @EnumSource(value = ControlRecordType.class, names = {"COMMIT", "ABORT"})
    void kiriMarkerIsByteForByteKafkasMarker(ControlRecordType type) {
        MemorySegment target = Arena.ofAuto().allocate(200);
        MemorySegment marker = target.asSlice(7, ControlBatch.SIZE);
        ControlBatch.write(target.asSlice(7), 4242L, 11, 9001L, (short) 4, type == ControlRecordType.COMMIT, 33, T0);
        byte[] kafka = bytes(MemoryRecords.withEndTransactionMarker(4242L, T0, 11, 9001L, (short) 4,
                new EndTransactionMarker(kafkaType(type), 33)).buffer());
        assertArrayEquals(kafka, bytes(marker));
        assertEquals(type, ControlBatch.type(marker));
        assertEquals(type == ControlRecordType.COMMIT, ControlBatch.isCommit(marker));
        assertEquals(33, ControlBatch.coordinatorEpoch(marker));

        MutableRecordBatch batch = KafkaBatches.kafkaBatch(kafka);
        batch.ensureValid();
        EndTransactionMarker kafkaMarker = EndTransactionMarker.deserialize(batch.iterator().next());
        assertEquals(kafkaType(type), kafkaMarker.controlType());
        assertEquals(33, kafkaMarker.coordinatorEpoch());
    }

    @ParameterizedTest
    @EnumSource(value = ControlRecordType.class, names = {"COMMIT", "ABORT"})
    void kafkaMarkerReadsBackThroughKiri(ControlRecordType type) {
        byte[] kafka = bytes(MemoryRecords.withEndTransactionMarker(5L, T0, 2, 77L, (short) 1,
                new EndTransactionMarker(kafkaType(type), 123_456)).buffer());
        RecordBatch batch = new RecordBatch().wrap(MemorySegment.ofArray(kafka), 0);
        assertEquals(BatchStatus.VALID, batch.validate());
        assertTrue(batch.isControl());
        assertTrue(batch.isTransactional());
        assertEquals(77L, batch.producerId());
        assertEquals(1, batch.producerEpoch());
        assertEquals(RecordBatch.NO_SEQUENCE, batch.baseSequence());
        RecordCursor records = new RecordCursor().wrap(batch);
        assertTrue(records.next());
        assertEquals(type, ControlBatch.recordType(records.key()));
        assertEquals(123_456, ControlBatch.recordCoordinatorEpoch(records.value()));
        assertEquals(type, ControlBatch.type(batch.asSlice()));
        assertEquals(123_456, ControlBatch.coordinatorEpoch(batch.asSlice()));
        assertEquals(5L, records.offset());
        assertEquals(T0, records.timestamp());
    }

    @Test
    void controlRecordTypesMatchKafka() {
        for (ControlRecordType type : ControlRecordType.values()) {
            org.apache.kafka.common.record.ControlRecordType kafka = kafkaType(type);
            if (type != ControlRecordType.UNKNOWN) {
                assertEquals(type, ControlRecordType.forType(type.type()));
            }
            assertEquals(kafka, org.apache.kafka.common.record.ControlRecordType.fromTypeId(type.type()));
        }
        assertEquals(org.apache.kafka.common.record.ControlRecordType.values().length, ControlRecordType.values().length);
        assertEquals(ControlRecordType.UNKNOWN, ControlBatch.recordType(MemorySegment.ofArray(new byte[] {0, 0, 0, 99})));
    }

    @Test
    void malformedControlRecordsAreProtocolExceptions() {
        assertThrows(ProtocolException.class, () -> ControlBatch.recordType(null));
        assertThrows(ProtocolException.class, () -> ControlBatch.recordType(MemorySegment.ofArray(new byte[3])));
        assertThrows(ProtocolException.class, () -> ControlBatch.recordType(MemorySegment.ofArray(new byte[] {-1, -1, 0, 1})));
        assertThrows(ProtocolException.class, () -> ControlBatch.recordCoordinatorEpoch(MemorySegment.ofArray(new byte[5])));
        assertThrows(ProtocolException.class, () -> ControlBatch.recordCoordinatorEpoch(MemorySegment.ofArray(new byte[] {-1, 0, 0, 0, 0, 1})));
    }
}
