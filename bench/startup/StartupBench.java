import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Time to a ready in-process broker, the first in this JVM and each later one, for Kiri's EmbeddedKiri or
 * Apache Kafka's KafkaClusterTestKit (one combined KRaft node), plus the heap one idle broker retains, and
 * optionally a produce/consume round trip through kafka-clients (to run under a small -Xmx).
 *
 * <p>Compiled and run by bench/embedded-startup.sh: {@code java -cp CP StartupBench kiri|kafka N [RECORDS]}; the
 * Kiri JVM has no Kafka broker jars (the Kafka side lives in its own class, loaded only in kafka mode).
 * Two figures per start: "start-returned" (Kiri: EmbeddedKiri.start(); Kafka: format, startup,
 * waitForReadyBrokers) and "client-ready" (then a new Admin client's describeCluster answered: the same
 * client work on both sides, whose first use in a JVM loads kafka-clients' classes).
 */
public class StartupBench {
    interface Started extends AutoCloseable {
        String bootstrap();
    }

    public static void main(String[] args) throws Exception {
        String which = args[0];
        int cycles = Integer.parseInt(args[1]);
        int records = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        long[] startMs = new long[cycles];
        long[] readyMs = new long[cycles];
        for (int i = 0; i < cycles; i++) {
            long t0 = System.nanoTime();
            try (Started s = start(which)) {
                startMs[i] = (System.nanoTime() - t0) / 1_000_000;
                ready(s.bootstrap());
                readyMs[i] = (System.nanoTime() - t0) / 1_000_000;
                if (i == cycles - 1) {
                    long heap = retainedHeap();
                    System.out.printf("%s heap-used-after-gc-with-broker-mb %.1f%n", which, heap / 1048576.0);
                    if (records > 0) {
                        roundTrip(s.bootstrap(), records);
                        System.out.printf("%s round-trip-records %d max-heap-mb %d%n", which, records,
                                Runtime.getRuntime().maxMemory() / 1048576);
                    }
                }
            }
        }
        print(which, "start-returned", startMs);
        print(which, "client-ready", readyMs);
    }

    /** The first figure, then the median, min and max of the later ones. */
    static void print(String which, String what, long[] ms) {
        long[] later = Arrays.copyOfRange(ms, 1, ms.length);
        Arrays.sort(later);
        System.out.printf("%s %s first-ms %d later-median-ms %d later-min-ms %d later-max-ms %d all %s%n", which, what,
                ms[0], later.length == 0 ? -1 : later[later.length / 2], later.length == 0 ? -1 : later[0],
                later.length == 0 ? -1 : later[later.length - 1], Arrays.toString(ms));
    }

    static Started start(String which) throws Exception {
        return switch (which) {
            case "kiri" -> {
                kiri.embedded.EmbeddedKiri k = kiri.embedded.EmbeddedKiri.start();
                yield new Started() {
                    public String bootstrap() { return k.bootstrapServers(); }
                    public void close() { k.close(); }
                };
            }
            case "kafka" -> KafkaTestKit.start();
            default -> throw new IllegalArgumentException("kiri or kafka, not " + which);
        };
    }

    static void ready(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(p)) {
            if (admin.describeCluster().nodes().get().isEmpty()) throw new IllegalStateException("no nodes");
        }
    }

    static long retainedHeap() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Produces {@code n} 1 KiB records, then reads them all back in a consumer group. */
    static void roundTrip(String bootstrap, int n) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        String topic = "t-" + UUID.randomUUID();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < n; i++) producer.send(new ProducerRecord<>(topic, new byte[1024]));
            producer.flush();
        }
        p.put("group.id", "g");
        p.put("auto.offset.reset", "earliest");
        int seen = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (seen < n && System.nanoTime() < deadline) seen += c.poll(Duration.ofMillis(200)).count();
        }
        if (seen != n) throw new IllegalStateException("read " + seen + " of " + n);
    }

    /** Apache Kafka's in-process test cluster: one combined (broker + controller) KRaft node. */
    static final class KafkaTestKit {
        static Started start() throws Exception {
            var nodes = new org.apache.kafka.common.test.TestKitNodes.Builder().setCombined(true)
                    .setNumBrokerNodes(1).setNumControllerNodes(1).build();
            var cluster = new org.apache.kafka.common.test.KafkaClusterTestKit.Builder(nodes)
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("offsets.topic.replication.factor", "1").build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new Started() {
                public String bootstrap() { return cluster.bootstrapServers(); }
                public void close() throws Exception { cluster.close(); }
            };
        }
    }
}
