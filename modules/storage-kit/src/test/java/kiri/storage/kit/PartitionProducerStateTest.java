package kiri.storage.kit;

import java.lang.foreign.MemorySegment;
import java.util.List;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.ControlBatch;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.StorageException;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

import static kiri.testsupport.Assert.assertCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PartitionProducerStateTest {
    private final PartitionProducerState state = new PartitionProducerState();
    private long next;

    /** What an engine does: check, then assign the next offset and record it. */
    private long append(MemorySegment batch) {
        long dup = state.check(batch);
        if (dup != PartitionProducerState.APPEND) return dup;
        long base = next;
        RecordBatch.setBaseOffset(batch, base);
        next = RecordBatch.nextOffset(batch, base);
        state.onAppend(batch, base);
        return base;
    }

    private long marker(long pid, short epoch, boolean commit) {
        MemorySegment m = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(m, 0L, 0, pid, epoch, commit, 0, 0L);
        return append(m);
    }

    @Test
    void retriedBatchGetsItsOriginalOffset() {
        assertEquals(0L, append(KafkaBatches.idempotent(1L, (short) 0, 0, 3)));
        assertEquals(3L, append(KafkaBatches.idempotent(1L, (short) 0, 3, 2)));
        assertEquals(0L, append(KafkaBatches.idempotent(1L, (short) 0, 0, 3)), "duplicate answers the stored offset");
        assertEquals(3L, append(KafkaBatches.idempotent(1L, (short) 0, 3, 2)));
        assertEquals(5L, next, "duplicates are not appended");
        assertEquals(5L, append(KafkaBatches.idempotent(1L, (short) 0, 5, 1)));
    }

    @Test
    void gapIsOutOfOrder() {
        append(KafkaBatches.idempotent(1L, (short) 0, 0, 3));
        StorageException e = assertCode(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
                () -> append(KafkaBatches.idempotent(1L, (short) 0, 10, 1)));
        assertTrue(e.getMessage().contains("10"), e.getMessage());
        assertEquals(3L, next);
    }

    @Test
    void onlyTheLastFiveBatchesAreRemembered() {
        for (int i = 0; i < 6; i++) append(KafkaBatches.idempotent(1L, (short) 0, i, 1));
        assertEquals(1L, append(KafkaBatches.idempotent(1L, (short) 0, 1, 1)), "second batch still in the window");
        assertCode(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, () -> append(KafkaBatches.idempotent(1L, (short) 0, 0, 1)));
    }

    @Test
    void staleEpochIsRejectedAndNewEpochRestartsAtZero() {
        append(KafkaBatches.idempotent(1L, (short) 1, 0, 2));
        assertCode(ErrorCode.INVALID_PRODUCER_EPOCH, () -> append(KafkaBatches.idempotent(1L, (short) 0, 2, 1)));
        assertCode(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, () -> append(KafkaBatches.idempotent(1L, (short) 2, 2, 1)));
        assertEquals(2L, append(KafkaBatches.idempotent(1L, (short) 2, 0, 1)));
        assertCode(ErrorCode.INVALID_PRODUCER_EPOCH, () -> append(KafkaBatches.idempotent(1L, (short) 1, 2, 1)));
    }

    @Test
    void unknownProducerMayStartAnywhereAndProducersAreIndependent() {
        assertEquals(0L, append(KafkaBatches.idempotent(7L, (short) 3, 500, 1)));
        assertEquals(1L, append(KafkaBatches.idempotent(8L, (short) 0, 0, 1)));
        assertEquals(2L, append(KafkaBatches.idempotent(7L, (short) 3, 501, 1)));
        assertEquals(3L, append(KafkaBatches.plain(1)), "no producer id: never checked");
        assertEquals(4L, append(KafkaBatches.plain(1)));
    }

    @Test
    void sequenceWrapsFromIntMaxToZero() {
        append(KafkaBatches.idempotent(1L, (short) 0, Integer.MAX_VALUE - 1, 2));
        assertEquals(2L, append(KafkaBatches.idempotent(1L, (short) 0, 0, 1)));
        assertTrue(PartitionProducerState.inSequence(Integer.MAX_VALUE, 0));
        assertFalse(PartitionProducerState.inSequence(Integer.MAX_VALUE, Integer.MIN_VALUE));
    }

    @Test
    void openTransactionBoundsTheLastStableOffsetAndAbortsAreRecorded() {
        append(KafkaBatches.plain(10));                                        // 0..9
        append(KafkaBatches.transactional(5L, (short) 0, 0, 3));               // 10..12
        append(KafkaBatches.plain(2));                                         // 13..14
        assertEquals(10L, state.firstUnstableOffset());
        assertEquals(10L, state.lastStableOffset(next));
        assertTrue(state.hasOpenTransaction(5L));
        assertCode(ErrorCode.INVALID_TXN_STATE, () -> append(KafkaBatches.idempotent(5L, (short) 0, 3, 1)));

        assertEquals(15L, marker(5L, (short) 0, false));
        assertEquals(16L, state.lastStableOffset(next));
        assertEquals(List.of(new AbortedTransaction(5L, 10L)), state.abortedTransactions(0L, 16L));
        assertEquals(List.of(new AbortedTransaction(5L, 10L)), state.abortedTransactions(15L, 16L), "marker offset is inside the range");
        assertEquals(List.of(), state.abortedTransactions(16L, 100L));
        assertEquals(List.of(), state.abortedTransactions(0L, 10L), "range starts at 10");

        append(KafkaBatches.transactional(5L, (short) 0, 3, 1));               // 16
        marker(5L, (short) 0, true);                                           // 17
        assertEquals(1, state.abortedTransactions(0L, 100L).size(), "commits are not aborted ranges");
        assertEquals(-1L, state.firstUnstableOffset());

        state.onLogStartOffset(16L);
        assertEquals(List.of(), state.abortedTransactions(0L, 100L));
    }

    @Test
    void markerWithOlderEpochIsRejectedAndNewerEpochFencesData() {
        append(KafkaBatches.transactional(5L, (short) 2, 0, 1));
        MemorySegment old = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(old, 0L, 0, 5L, (short) 1, false, 0, 0L);
        assertCode(ErrorCode.INVALID_PRODUCER_EPOCH, () -> state.check(old));
        marker(5L, (short) 3, false); // coordinator bumped the epoch while aborting
        assertCode(ErrorCode.INVALID_PRODUCER_EPOCH, () -> append(KafkaBatches.transactional(5L, (short) 2, 1, 1)));
        assertEquals(List.of(new ActiveProducer(5L, (short) 3, -1, 1_000L, 0, -1L)), state.activeProducers());
    }

    @Test
    void idleProducersExpire() {
        append(KafkaBatches.idempotent(1L, (short) 0, 0, 1)); // timestamp 1000
        state.removeExpired(1_000L + 86_400_000L, 86_400_000L);
        assertEquals(1, state.activeProducers().size());
        state.removeExpired(1_001L + 86_400_000L, 86_400_000L);
        assertEquals(0, state.activeProducers().size());
        assertEquals(1L, append(KafkaBatches.idempotent(1L, (short) 0, 42, 1)), "forgotten producer may resume anywhere");
    }
}
