package kiri.storage.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.apache.kafka.common.record.ControlRecordType;
import org.apache.kafka.common.record.EndTransactionMarker;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;
import kiri.testsupport.KafkaBatches;

class ControlBatchesTest {

    @Test
    void commitMarkerIsWhatKafkaWrites() {
        MemorySegment m = MemorySegment.ofArray(new byte[ControlBatches.SIZE]);
        ControlBatches.write(m, 77L, 2, 9_000L, (short) 4, true, 11, 1_700_000_000_000L);
        RecordBatch batch = KafkaBatches.parse(m);
        assertTrue(batch.isControlBatch());
        assertTrue(batch.isTransactional());
        assertEquals(77L, batch.baseOffset());
        assertEquals(77L, batch.lastOffset());
        assertEquals(9_000L, batch.producerId());
        assertEquals(4, batch.producerEpoch());
        assertEquals(2, batch.partitionLeaderEpoch());
        assertEquals(ControlBatches.SIZE, batch.sizeInBytes());
        Record record = batch.iterator().next();
        assertEquals(ControlRecordType.COMMIT, ControlRecordType.parse(record.key()));
        assertEquals(11, EndTransactionMarker.deserialize(record).coordinatorEpoch());
        assertTrue(ControlBatches.isCommit(m));
        assertEquals(11, ControlBatches.coordinatorEpoch(m));
    }

    @Test
    void abortMarkerInNativeMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(ControlBatches.SIZE + 10);
            ControlBatches.write(m, 5L, 0, 1L, (short) 0, false, -1, 0L);
            MemorySegment exact = m.asSlice(0, ControlBatches.SIZE);
            RecordBatch batch = KafkaBatches.parse(exact);
            assertEquals(ControlRecordType.ABORT, ControlRecordType.parse(batch.iterator().next().key()));
            assertFalse(ControlBatches.isCommit(exact));
            assertEquals(ControlBatches.ABORT, ControlBatches.type(exact));
        }
    }
}
