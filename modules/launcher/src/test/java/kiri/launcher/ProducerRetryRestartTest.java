package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import kiri.client.Cluster;
import kiri.client.Producer;
import kiri.client.ProducerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kiri's producer across a broker restart on the same address (durable {@code file:} engine): records
 * sent before, while the broker is down and after it is back are all acknowledged, and a KafkaConsumer
 * reads each exactly once, in send order per partition.
 */
class ProducerRetryRestartTest {
    @TempDir
    Path dir;

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        GroupTestBroker.waitFor(condition, what, Duration.ofSeconds(60));
    }

    @RepeatedTest(3)
    void recordsSentBeforeDuringAndAfterARestartAreAllDeliveredOnceInOrder() throws Exception {
        String storage = "file:" + dir.resolve("data");
        String topic = "restarted";
        int partitions = 3;
        Broker first = InProcessBroker.start(storage);
        int port = first.localAddress().getPort();
        String bootstrap = "127.0.0.1:" + port;
        KeyedRecords.createTopic(bootstrap, topic, partitions);
        Broker second = null;
        AtomicLong acked = new AtomicLong();
        AtomicInteger sent = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Producer.Callback callback = (token, partition, offset, error) -> {
            if (error != null) {
                errors.add(error);
            } else {
                acked.incrementAndGet();
            }
        };
        try {
            try (Cluster c = Cluster.connect(bootstrap);
                    Producer p = new Producer(c, ProducerConfig.defaults().withLingerMs(2).withBatchSize(2048))) {
                Thread sender = Thread.ofPlatform().name("restart-test-sender").start(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        try {
                            p.send(topic, i % partitions, null, Integer.toString(i).getBytes(StandardCharsets.UTF_8), i,
                                    callback);
                        } catch (Exception e) {
                            errors.add(e);
                            return;
                        }
                        sent.set(++i);
                        if (i % 20 == 0) {
                            LockSupport.parkNanos(1_000_000); // at most ~20,000 records/s
                        }
                    }
                });
                await(() -> acked.get() >= 5_000, "records before the restart");
                first.close();
                int sentAtStop = sent.get();
                long ackedAtStop = acked.get();
                long downSince = System.nanoTime();
                await(() -> sent.get() >= sentAtStop + 2_000 && System.nanoTime() - downSince > 500_000_000L,
                        "records sent while the broker is down");
                second = InProcessBroker.start(storage, port);
                int sentAtRestart = sent.get();
                await(() -> acked.get() >= sentAtRestart + 5_000, "records after the restart");
                stop.set(true);
                sender.join();
                p.flush();
                System.out.printf("restart: %d records sent, %d acknowledged when the broker stopped, %d sent while it "
                        + "was down; %d batch retries, %d producer id resets%n", sent.get(), ackedAtStop,
                        sentAtRestart - sentAtStop, p.retriedBatches(), p.producerIdResets());
                assertTrue(p.retriedBatches() > 0, "the restart made batches retry");
                assertEquals(0, p.producerIdResets(), "no batch failed for good");
            }
            assertTrue(errors.isEmpty(), () -> errors.size() + " failures, first: " + errors.peek());
            int n = sent.get();
            assertEquals(n, acked.get(), "every record acknowledged");

            List<TopicPartition> tps = KeyedRecords.partitions(topic, partitions);
            Map<Integer, List<String>> read = new HashMap<>();
            for (ConsumerRecord<String, byte[]> r : KeyedRecords.consume(bootstrap, tps, n)) {
                read.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(new String(r.value(), StandardCharsets.UTF_8));
            }
            long total = 0;
            try (Admin admin = KeyedRecords.admin(bootstrap)) {
                for (TopicPartition tp : tps) {
                    List<String> expected = new ArrayList<>();
                    for (int i = tp.partition(); i < n; i += partitions) {
                        expected.add(Integer.toString(i));
                    }
                    List<String> got = read.getOrDefault(tp.partition(), List.of());
                    if (!expected.equals(got)) {
                        throw new AssertionError("partition " + tp.partition() + ": expected " + expected.size()
                                + " records in send order, got " + got.size() + "; first difference at "
                                + firstDifference(expected, got));
                    }
                    long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset();
                    assertEquals(expected.size(), end, "no duplicates in partition " + tp.partition());
                    total += end;
                }
            }
            assertEquals(n, total);
        } finally {
            if (second != null) {
                second.close();
            } else {
                first.close();
            }
        }
    }

    private static String firstDifference(List<String> expected, List<String> got) {
        for (int i = 0; i < Math.min(expected.size(), got.size()); i++) {
            if (!expected.get(i).equals(got.get(i))) {
                return i + " (expected " + expected.get(i) + ", got " + got.get(i) + ")";
            }
        }
        return Integer.toString(Math.min(expected.size(), got.size()));
    }
}
