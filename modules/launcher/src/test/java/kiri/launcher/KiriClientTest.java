package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import kiri.client.Admin;
import kiri.client.ClientException;
import kiri.client.Cluster;
import kiri.client.Consumer;
import kiri.client.NodeConnection;
import kiri.client.Producer;
import kiri.client.ProducerConfig;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ApiKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Kiri's client library against an in-process Kiri broker (null:// storage: offsets kept, records dropped). */
class KiriClientTest {
    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = Broker.start(new Broker.Settings(new ListenerUrl("127.0.0.1", 0), new ListenerUrl("127.0.0.1", 0),
                "null://", null, 0, false, 1));
        bootstrap = "127.0.0.1:" + broker.localAddress().getPort();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static long endOffset(Cluster c, String topic, int partition) throws Exception {
        try (Consumer consumer = new Consumer(c, Consumer.Config.defaults())) {
            consumer.assign(topic, List.of(partition), Consumer.LATEST);
            return consumer.positions().get(topic + "-" + partition);
        }
    }

    @Test
    void negotiatesTheHighestCommonVersionPerApi() throws Exception {
        try (Cluster c = Cluster.connect(bootstrap)) {
            NodeConnection node = c.bootstrapConnection();
            assertEquals(12, node.version(ApiKey.PRODUCE)); // Kiri serves 13, this client stops at 12 (topic names)
            assertEquals(12, node.version(ApiKey.FETCH));
            assertEquals(ApiKey.METADATA.highestVersion, node.version(ApiKey.METADATA));
            assertEquals(-1, node.version(ApiKey.ALTER_PARTITION)); // controller-only: no common version
            ClientException e = assertThrows(ClientException.class, () -> NodeConnectionAwait.await(
                    node.send(ApiKey.ALTER_PARTITION, ApiKey.ALTER_PARTITION.newRequest())));
            assertEquals(ErrorCode.UNSUPPORTED_VERSION, e.error());
        }
    }

    /** Helper to unwrap a future's failure as the client would. */
    static final class NodeConnectionAwait {
        static Object await(CompletableFuture<?> f) throws Exception {
            try {
                return f.get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw (Exception) e.getCause();
            }
        }
    }

    @Test
    void idempotentProducerRoutesKeysLikeKafkaAndGetsConsecutiveOffsets() throws Exception {
        try (Cluster c = Cluster.connect(bootstrap)) {
            new Admin(c).createTopic("client-keyed", 3, (short) -1, Map.of());
            Map<Integer, List<Long>> offsets = new ConcurrentHashMap<>();
            int n = 300;
            CountDownLatch done = new CountDownLatch(n);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            try (Producer p = new Producer(c, ProducerConfig.defaults().withLingerMs(20).withBatchSize(1024))) {
                assertTrue(p.producerId() >= 0, "idempotent by default: has a producer id");
                for (int i = 0; i < n; i++) {
                    byte[] key = ("key-" + (i % 10)).getBytes(StandardCharsets.UTF_8);
                    int expected = (kafkaMurmur2(key) & 0x7fffffff) % 3;
                    p.send("client-keyed", -1, key, new byte[50], i, (token, partition, offset, error) -> {
                        if (error != null) {
                            errors.add(error);
                        } else if (partition != expected) {
                            errors.add(new AssertionError("key went to " + partition + ", Kafka would pick " + expected));
                        } else {
                            offsets.computeIfAbsent(partition, k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                                    .add(offset);
                        }
                        done.countDown();
                    });
                }
                p.flush();
            }
            assertTrue(done.await(10, TimeUnit.SECONDS));
            assertTrue(errors.isEmpty(), errors.toString());
            long total = 0;
            for (Map.Entry<Integer, List<Long>> e : offsets.entrySet()) {
                List<Long> list = new ArrayList<>(e.getValue());
                list.sort(null);
                for (int i = 0; i < list.size(); i++) {
                    assertEquals(i, list.get(i), "offsets of partition " + e.getKey() + " are 0..n-1");
                }
                assertEquals(list.size(), endOffset(c, "client-keyed", e.getKey()));
                total += list.size();
            }
            assertEquals(n, total);
        }
    }

    private static int kafkaMurmur2(byte[] key) {
        return org.apache.kafka.common.utils.Utils.murmur2(key);
    }

    @Test
    void acksOneAndZeroAndOversizedRecordsAndLingerFlush() throws Exception {
        try (Cluster c = Cluster.connect(bootstrap)) {
            new Admin(c).createTopic("client-acks", 1, (short) -1, Map.of());
            try (Producer p = new Producer(c, ProducerConfig.defaults().withAcks((short) 1).withLingerMs(60_000))) {
                assertEquals(-1, p.producerId(), "acks=1: not idempotent");
                CompletableFuture<Long> first = p.send("client-acks", 0, null, "a".getBytes(StandardCharsets.UTF_8));
                CompletableFuture<Long> big = p.send("client-acks", 0, null, new byte[100_000]); // > batch size
                long start = System.nanoTime();
                p.flush(); // must not wait for the 60 s linger
                assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20));
                assertEquals(0L, first.get(5, TimeUnit.SECONDS));
                assertEquals(1L, big.get(5, TimeUnit.SECONDS));
            }
            try (Producer p = new Producer(c, ProducerConfig.defaults().withAcks((short) 0))) {
                List<CompletableFuture<Long>> sent = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    sent.add(p.send("client-acks", 0, null, new byte[10]));
                }
                p.flush();
                for (CompletableFuture<Long> f : sent) {
                    assertEquals(-1L, f.get(5, TimeUnit.SECONDS), "acks=0: no offsets");
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (endOffset(c, "client-acks", 0) < 102 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(102, endOffset(c, "client-acks", 0));
        }
    }

    @Test
    void aLoneRecordIsSentWhenItsLingerEndsWithoutAFlush() throws Exception {
        try (Cluster c = Cluster.connect(bootstrap)) {
            new Admin(c).createTopic("client-linger", 1, (short) -1, Map.of());
            try (Producer p = new Producer(c, ProducerConfig.defaults().withLingerMs(10))) {
                // the sender is idle (no open batch) when this record opens one: the linger must wake it
                Thread.sleep(50);
                assertEquals(0L, p.send("client-linger", 0, null, new byte[10]).get(10, TimeUnit.SECONDS));
                Thread.sleep(50);
                assertEquals(1L, p.send("client-linger", 0, null, new byte[10]).get(10, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void sendingAllocatesNothingPerRecordOnTheCallersThread() throws Exception {
        // reflection, so the test module needn't read java.management/jdk.management
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getCurrentThreadAllocatedBytes");
        try (Cluster c = Cluster.connect(bootstrap)) {
            new Admin(c).createTopic("client-alloc", 2, (short) -1, Map.of());
            java.util.concurrent.atomic.LongAdder acked = new java.util.concurrent.atomic.LongAdder();
            Producer.Callback callback = (token, partition, offset, error) -> acked.increment();
            byte[] value = new byte[100];
            int n = 50_000;
            // 1 MiB of buffer: the first round fills it (back-pressure), so the batch pool reaches its final size
            // (64 batches of 16 KiB) and the measured round allocates no batches, only what records might.
            ProducerConfig config = new ProducerConfig((short) -1, 16384, 5, 5, true, 30_000, 1L << 20);
            try (Producer p = new Producer(c, config)) {
                for (int round = 0; round < 2; round++) {
                    long before = (long) allocated.invoke(threads);
                    for (int i = 0; i < n; i++) {
                        p.send("client-alloc", -1, null, value, i, callback);
                    }
                    long perRecord = ((long) allocated.invoke(threads) - before) / n;
                    p.flush();
                    if (round == 1) {
                        // Lock hand-offs and back-pressure waits may allocate a queue node now and then (once per
                        // batch or so); an object per record would cost 16 bytes or more.
                        assertTrue(perRecord < 12, perRecord + " bytes allocated per record on the sending thread");
                    }
                }
            }
            assertEquals(2L * n, acked.sum());
        }
    }

    @Test
    void errorsAreClear() throws Exception {
        try (Cluster c = Cluster.connect(bootstrap, "t", Duration.ofSeconds(2))) {
            try (Producer p = new Producer(c, ProducerConfig.defaults())) {
                ClientException missing = assertThrows(ClientException.class,
                        () -> p.send("client-no-such-topic", -1, null, new byte[1])); // auto-create is off here
                assertEquals(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, missing.error());
                new Admin(c).createTopic("client-errors", 2, (short) -1, Map.of());
                ClientException partition = assertThrows(ClientException.class,
                        () -> p.send("client-errors", 5, null, new byte[1]));
                assertTrue(partition.getMessage().contains("has no partition 5"), partition.getMessage());
            }
            ClientException exists = assertThrows(ClientException.class,
                    () -> new Admin(c).createTopic("client-errors", 1, (short) -1, Map.of()));
            assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS, exists.error());
            try (Consumer consumer = new Consumer(c, Consumer.Config.defaults())) {
                consumer.assign("client-errors", null, Consumer.EARLIEST);
                assertEquals(0, consumer.poll((t, p, o, ts, k, v, r) -> { }, 10));
                assertEquals(Map.of("client-errors-0", 0L, "client-errors-1", 0L), consumer.positions());
            }
        }
    }
}
