import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A produce load for bench/footprint.sh: one kafka-clients producer (acks=1, default batching, no
 * compression) sending records of SIZE bytes to TOPIC as fast as the broker takes them for SECONDS.
 * Run as a single-file program: java -cp kafka-clients.jar:slf4j-api.jar bench/ProduceLoad.java HOST:PORT SECONDS SIZE
 */
public class ProduceLoad {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        long seconds = Long.parseLong(args[1]);
        int size = Integer.parseInt(args[2]);
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "1");
        p.put("linger.ms", "5");
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        byte[] value = new byte[size];
        AtomicLong acked = new AtomicLong(), failed = new AtomicLong();
        long start = System.nanoTime(), end = start + seconds * 1_000_000_000L;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            while (System.nanoTime() < end) {
                producer.send(new ProducerRecord<>("load", value), (md, e) -> (e == null ? acked : failed).incrementAndGet());
            }
            producer.flush();
        }
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("produced %d records (%d failed) of %d bytes in %.1f s: %.0f records/s, %.1f MB/s%n",
                acked.get(), failed.get(), size, s, acked.get() / s, acked.get() * (double) size / s / 1e6);
        if (failed.get() > 0) System.exit(1);
    }
}
