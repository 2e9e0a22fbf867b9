package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

/** Long-poll fetches: awaitData is woken by what makes a fetch return something, by deletion and by close. */
public abstract class WakeUpContract extends TransactionsContract {

    @Test
    void produceWakesAWaiter() {
        topic("t", 1);
        CompletableFuture<Void> waiting = storage.awaitData(p0, 0, RU);
        produce(p0, KafkaBatches.plain(1));
        assertTrue(completes(waiting), "woken by the append");
    }

    @Test
    void dataAlreadyThereCompletesAtOnce() {
        requires(Capability.RECORDS);
        topic("t", 1);
        produce(p0, KafkaBatches.plain(2));
        assertTrue(completes(storage.awaitData(p0, 1, RU)));
    }

    @Test
    void commitWakesAReadCommittedWaiter() {
        topic("t", 1);
        ProducerIdAndEpoch p = initTxn(60_000);
        produceTxn(p, p0, 0, 2);
        CompletableFuture<Void> waiting = storage.awaitData(p0, 0, RC);
        await(storage.endTxn(TXN, p, true, false));
        assertTrue(completes(waiting), "woken when the last stable offset moved");
    }

    @Test
    void deleteAndCloseWakeWaiters() {
        topic("t", 1);
        topic("u", 1);
        CompletableFuture<Void> onDeleted = storage.awaitData(p0, 0, RU);
        CompletableFuture<Void> onClosed = storage.awaitData(new TopicPartition("u", 0), 0, RU);
        await(storage.deleteTopic(TopicRef.of("t")));
        assertTrue(completes(onDeleted), "woken by the deletion");
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.awaitData(p0, 0, RU));
        storage.close();
        assertTrue(completes(onClosed), "woken by close");
        assertFails(ErrorCode.KAFKA_STORAGE_ERROR, storage.offsets(new TopicPartition("u", 0)));
        storage.close(); // idempotent
    }
}
