package kiri.storage.kit;

import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.ErrorCode;
import kiri.storage.api.ProducerIdAndEpoch;
import org.junit.jupiter.api.Test;

import static kiri.testsupport.Assert.assertCode;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ProducerEpochsTest {
    private final AtomicLong ids = new AtomicLong(100);
    private static final ProducerIdAndEpoch NONE = ProducerIdAndEpoch.NONE;

    private ProducerIdAndEpoch reinit(ProducerIdAndEpoch current, ProducerIdAndEpoch previous, ProducerIdAndEpoch expected) {
        return ProducerEpochs.reinit(current, previous, expected, ids::getAndIncrement);
    }

    @Test
    void firstInitAllocatesThenEachInitBumps() {
        ProducerIdAndEpoch first = reinit(NONE, NONE, NONE);
        assertEquals(new ProducerIdAndEpoch(100L, 0), first);
        ProducerIdAndEpoch second = reinit(first, NONE, NONE);
        assertEquals(new ProducerIdAndEpoch(100L, 1), second);
    }

    @Test
    void exhaustedEpochMovesToANewId() {
        ProducerIdAndEpoch old = new ProducerIdAndEpoch(5L, Short.MAX_VALUE - 1);
        assertEquals(new ProducerIdAndEpoch(100L, 0), reinit(old, NONE, NONE));
        assertEquals(new ProducerIdAndEpoch(5L, Short.MAX_VALUE - 1), reinit(new ProducerIdAndEpoch(5L, Short.MAX_VALUE - 2), NONE, NONE));
    }

    @Test
    void kip360ReinitWithCurrentBumpsAndRetryReturnsCurrent() {
        ProducerIdAndEpoch current = new ProducerIdAndEpoch(5L, 3);
        assertEquals(new ProducerIdAndEpoch(5L, 4), reinit(current, new ProducerIdAndEpoch(5L, 2), current));
        // the bump to 3 happened but the client never saw it: it still sends 2
        assertEquals(current, reinit(current, new ProducerIdAndEpoch(5L, 2), new ProducerIdAndEpoch(5L, 2)));
    }

    @Test
    void zombieIsFenced() {
        ProducerIdAndEpoch current = new ProducerIdAndEpoch(5L, 3);
        assertCode(ErrorCode.PRODUCER_FENCED, () -> reinit(current, new ProducerIdAndEpoch(5L, 2), new ProducerIdAndEpoch(5L, 1)));
        assertCode(ErrorCode.PRODUCER_FENCED, () -> reinit(current, NONE, new ProducerIdAndEpoch(6L, 3)));
    }

    @Test
    void verifyMapsMismatchesToKafkaErrors() {
        ProducerIdAndEpoch current = new ProducerIdAndEpoch(5L, 3);
        ProducerEpochs.verify("t", current, current);
        assertCode(ErrorCode.INVALID_PRODUCER_ID_MAPPING, () -> ProducerEpochs.verify("t", current, new ProducerIdAndEpoch(6L, 3)));
        assertCode(ErrorCode.PRODUCER_FENCED, () -> ProducerEpochs.verify("t", current, new ProducerIdAndEpoch(5L, 2)));
    }
}
