package kiri.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kiri.protocol.ErrorCode;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The producer's retries against {@link FakeBroker}, which answers with scripted errors. */
class ProducerRetryTest {
    private static final String TOPIC = "t";

    private static ProducerConfig config() {
        return ProducerConfig.defaults().withLingerMs(0).withBatchSize(128).withRetryBackoffMs(20);
    }

    private static Cluster connect(FakeBroker broker) throws Exception {
        return Cluster.connect(broker.bootstrap(), "retry-test", Duration.ofSeconds(10));
    }

    private static Throwable failure(CompletableFuture<Long> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        }
        return fail("expected a failure, got offset " + f.get());
    }

    /** Sends n records of 100 bytes (a batch each with 128-byte batches) and waits for them all. */
    private static List<Long> sendAll(Producer p, int n) throws Exception {
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(p.send(TOPIC, 0, null, new byte[100]));
        }
        p.flush();
        List<Long> offsets = new ArrayList<>();
        for (CompletableFuture<Long> f : futures) {
            offsets.add(f.get(10, TimeUnit.SECONDS));
        }
        return offsets;
    }

    @Test
    void configKeepsKafkasDefaultsAndTheOldConstructors() {
        ProducerConfig d = ProducerConfig.defaults();
        assertEquals(100, d.retryBackoffMs());
        assertEquals(120_000, d.deliveryTimeoutMs());
        ProducerConfig old = new ProducerConfig((short) -1, 16384, 5, 5, true, 30_000, 32L << 20);
        assertEquals(d, old);
        assertEquals(7, d.withDeliveryTimeoutMs(7).deliveryTimeoutMs());
        assertEquals(7, d.withDeliveryTimeoutMs(7).withLingerMs(1).withAcks((short) -1).deliveryTimeoutMs());
    }

    @Test
    void aNonRetriableErrorFailsAtOnceAndTheNextRecordsStillGoThrough() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker); Producer p = new Producer(c, config())) {
            broker.injector = (a, i) -> i == 0 ? ErrorCode.MESSAGE_TOO_LARGE.code() : 0;
            Throwable e = failure(p.send(TOPIC, 0, null, new byte[10]));
            assertEquals(ErrorCode.MESSAGE_TOO_LARGE, assertInstanceOf(ClientException.class, e).error());
            assertEquals(1, broker.attempts.size(), "not retried");
            // the failed batch left a sequence gap: the producer takes a new producer id and starts again at 0
            assertEquals(0L, p.send(TOPIC, 0, null, new byte[10]).get(10, TimeUnit.SECONDS));
            assertEquals(2, broker.initProducerIdRequests.get());
            assertEquals(0, broker.log.getFirst().sequence());
            assertNotEquals(broker.attempts.getFirst().producerId(), broker.log.getFirst().producerId());
        }
    }

    @Test
    void batchesBehindOneThatFailedForGoodAreRenumberedUnderANewProducerId() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker); Producer p = new Producer(c, config())) {
            broker.injector = (a, i) -> i == 0 ? ErrorCode.INVALID_RECORD.code() : 0;
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                futures.add(p.send(TOPIC, 0, null, new byte[100]));
            }
            p.flush();
            assertEquals(ErrorCode.INVALID_RECORD,
                    assertInstanceOf(ClientException.class, failure(futures.getFirst())).error());
            for (int i = 1; i < 30; i++) {
                assertEquals(i - 1, futures.get(i).get(10, TimeUnit.SECONDS), "record " + i);
            }
            assertEquals(29, broker.log.size());
        }
    }

    @Test
    void aRetriableErrorIsRetriedWithTheSameSequenceAfterAMetadataRefresh() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker); Producer p = new Producer(c, config())) {
            broker.injector = (a, i) -> i < 2 ? ErrorCode.NOT_LEADER_OR_FOLLOWER.code() : 0;
            int metadataBefore = broker.metadataRequests.get();
            assertEquals(0L, p.send(TOPIC, 0, null, new byte[10]).get(10, TimeUnit.SECONDS));
            assertEquals(3, broker.attempts.size());
            for (FakeBroker.Attempt a : broker.attempts) {
                assertEquals(broker.attempts.getFirst(), a, "the same producer id and sequence each time");
            }
            assertTrue(broker.metadataRequests.get() > metadataBefore, "metadata refreshed before retrying");
        }
    }

    @Test
    void theDeliveryTimeoutFailsTheRecordsWithTheLastError() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker);
                Producer p = new Producer(c, config().withDeliveryTimeoutMs(400))) {
            broker.injector = (a, i) -> i < 3 ? ErrorCode.NOT_LEADER_OR_FOLLOWER.code() : ErrorCode.NOT_ENOUGH_REPLICAS.code();
            long start = System.nanoTime();
            Throwable e = failure(p.send(TOPIC, 0, null, new byte[10]));
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(ErrorCode.NOT_ENOUGH_REPLICAS, assertInstanceOf(ClientException.class, e).error(), "the last error");
            assertTrue(elapsedMs >= 400, "retried until the delivery timeout, failed after " + elapsedMs + " ms");
            assertTrue(broker.attempts.size() > 4, "retried " + broker.attempts.size() + " times");
            broker.injector = (a, i) -> 0;
            assertEquals(0L, p.send(TOPIC, 0, null, new byte[10]).get(10, TimeUnit.SECONDS), "later records go through");
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // fail, not hang, if nothing times out
    void aRequestTheBrokerNeverAnswersTimesOutAndLaterRecordsGoThrough() throws Exception {
        // the client waits the broker's request timeout (1 ms here) plus 5 s for the way back
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker);
                Producer p = new Producer(c, config().withRequestTimeoutMs(1).withDeliveryTimeoutMs(1))) {
            broker.injector = (a, i) -> i == 0 ? FakeBroker.NO_ANSWER : 0;
            long start = System.nanoTime();
            Throwable e = failure(p.send(TOPIC, 0, null, new byte[10]));
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            ClientException timeout = assertInstanceOf(ClientException.class, e);
            assertEquals(ErrorCode.REQUEST_TIMED_OUT, timeout.error(), timeout.getMessage());
            assertTrue(elapsedMs >= 5_000 && elapsedMs < 9_000, "timed out after " + elapsedMs + " ms");
            assertEquals(1, broker.attempts.size(), "not retried past its delivery timeout");
            assertEquals(0L, p.send(TOPIC, 0, null, new byte[10]).get(10, TimeUnit.SECONDS),
                    "the next record goes through (the unanswered one was never appended)");
        }
    }

    @Test
    void duplicateSequenceNumberCountsAsSuccess() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker); Producer p = new Producer(c, config())) {
            broker.injector = (a, i) -> i == 0 ? ErrorCode.DUPLICATE_SEQUENCE_NUMBER.code() : 0;
            assertEquals(-1L, p.send(TOPIC, 0, null, new byte[10]).get(10, TimeUnit.SECONDS), "written before: offset unknown");
            assertEquals(1, broker.attempts.size(), "not retried");
        }
    }

    @Test
    void batchesBehindARetriedOneAreResentInOrder() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker); Producer p = new Producer(c, config())) {
            broker.injector = (a, i) -> i == 0 || i == 17 ? ErrorCode.NOT_LEADER_OR_FOLLOWER.code() : 0;
            List<Long> offsets = sendAll(p, 60);
            for (int i = 0; i < offsets.size(); i++) {
                assertEquals(i, offsets.get(i), "record " + i);
            }
            assertEquals(60, broker.log.size(), "each batch stored once");
            for (int i = 0; i < 60; i++) {
                assertEquals(i, broker.log.get(i).sequence(), "stored in sequence order");
            }
            assertTrue(broker.attempts.size() > 60, "some batches were re-sent");
        }
    }

    @RepeatedTest(20) // the drop races with pipelined requests differently each time
    void aDroppedConnectionIsRetriedAndTheLostResponseIsNotADuplicate() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker); Producer p = new Producer(c, config())) {
            broker.injector = (a, i) -> i == 5 || i == 30 ? FakeBroker.DROP_AFTER_APPEND : 0;
            List<Long> offsets = sendAll(p, 60);
            for (int i = 0; i < offsets.size(); i++) {
                assertEquals(i, offsets.get(i), "record " + i);
            }
            assertEquals(60, broker.log.size(), "each batch stored once");
            assertTrue(p.retriedBatches() >= 2, "retried " + p.retriedBatches());
            assertEquals(0, p.producerIdResets(), "no batch failed for good");
        }
    }

    @Test
    void withoutIdempotenceRetriesStillDeliver() throws Exception {
        try (FakeBroker broker = new FakeBroker(); Cluster c = connect(broker);
                Producer p = new Producer(c, config().withAcks((short) 1))) {
            broker.injector = (a, i) -> i == 0 ? ErrorCode.REQUEST_TIMED_OUT.code() : 0;
            assertEquals(0L, p.send(TOPIC, 0, null, new byte[10]).get(10, TimeUnit.SECONDS));
            assertEquals(2, broker.attempts.size());
            assertEquals(-1L, broker.attempts.getFirst().producerId());
        }
    }
}
