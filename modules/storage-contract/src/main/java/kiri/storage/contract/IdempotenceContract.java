package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kiri.protocol.ErrorCode;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

/** Idempotent producers: sequence windows per partition, duplicates, gaps and stale epochs. */
public abstract class IdempotenceContract extends RetentionContract {

    protected final ProducerIdAndEpoch idempotentProducer() {
        ProducerIdAndEpoch p = await(storage.initProducerId(null, 60_000, ProducerIdAndEpoch.NONE));
        assertTrue(p.producerId() >= 0);
        assertEquals(0, p.epoch());
        return p;
    }

    @Test
    void producerIdsAreDistinct() {
        assertTrue(idempotentProducer().producerId() != idempotentProducer().producerId());
    }

    @Test
    void retriedBatchIsAnsweredWithItsOriginalOffset() {
        requires(Capability.PRODUCER_STATE);
        topic("t", 1);
        long pid = idempotentProducer().producerId();
        produce(p0, KafkaBatches.plain(2)); // a plain producer first, so offsets and sequences differ
        assertEquals(2, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 0, 3)));
        assertEquals(5, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 3, 2)));
        assertEquals(2, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 0, 3)), "a retry of the first: its original offset");
        assertEquals(5, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 3, 2)), "a retry of the last");
        assertEquals(7, offsets(p0).highWatermark(), "duplicates are not stored again");
        assertEquals(7, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 5, 1)));
    }

    @Test
    void duplicatesAreRecognisedWithinTheLastFiveBatches() {
        requires(Capability.PRODUCER_STATE);
        topic("t", 1);
        long pid = idempotentProducer().producerId();
        for (int i = 0; i < 5; i++) assertEquals(i * 2L, produce(p0, KafkaBatches.idempotent(pid, (short) 0, i * 2, 2)));
        assertEquals(2, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 2, 2)), "the second of five in flight");
        assertEquals(10, offsets(p0).highWatermark());
    }

    @Test
    void sequenceGapIsOutOfOrder() {
        requires(Capability.PRODUCER_STATE);
        topic("t", 1);
        long pid = idempotentProducer().producerId();
        produce(p0, KafkaBatches.idempotent(pid, (short) 0, 0, 3));
        assertFails(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, storage.produce(null, p0, KafkaBatches.idempotent(pid, (short) 0, 5, 1)));
        assertEquals(3, offsets(p0).highWatermark(), "nothing stored");
        assertEquals(3, produce(p0, KafkaBatches.idempotent(pid, (short) 0, 3, 1)), "the right sequence still goes in");
        List<ActiveProducer> producers = await(storage.describeProducers(p0));
        assertEquals(1, producers.size());
        assertEquals(pid, producers.getFirst().producerId());
        assertEquals(3, producers.getFirst().lastSequence());
    }

    @Test
    void epochBumpResetsSequencesAndFencesTheOldEpoch() {
        requires(Capability.PRODUCER_STATE);
        topic("t", 1);
        long pid = idempotentProducer().producerId();
        produce(p0, KafkaBatches.idempotent(pid, (short) 0, 0, 3));
        assertEquals(3, produce(p0, KafkaBatches.idempotent(pid, (short) 1, 0, 1)), "a new epoch starts at sequence 0");
        assertFails(ErrorCode.INVALID_PRODUCER_EPOCH, storage.produce(null, p0, KafkaBatches.idempotent(pid, (short) 0, 3, 1)));
        assertEquals(4, offsets(p0).highWatermark());
    }

    @Test
    void sequencesArePerPartition() {
        requires(Capability.PRODUCER_STATE);
        topic("t", 2);
        long pid = idempotentProducer().producerId();
        produce(p0, KafkaBatches.idempotent(pid, (short) 0, 0, 3));
        assertEquals(0, produce(p1, KafkaBatches.idempotent(pid, (short) 0, 0, 1)), "p1 has its own window");
        assertFails(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, storage.produce(null, p1, KafkaBatches.idempotent(pid, (short) 0, 3, 1)));
    }
}
