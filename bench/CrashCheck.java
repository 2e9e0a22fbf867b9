// The client half of bench/crash-test.sh, run in source-launch mode against kafka-clients:
//   java -cp 'bench/target/kafka-libs/*' bench/CrashCheck.java produce BOOTSTRAP TOPIC PARTITIONS FROM COUNT ACKFILE
//   java -cp 'bench/target/kafka-libs/*' bench/CrashCheck.java verify BOOTSTRAP TOPIC PARTITIONS ACKFILE...
// produce: creates TOPIC if needed, sends records FROM..FROM+COUNT-1 (key "key-I", value derived from I,
//   acks=all, idempotent) and appends "PARTITION OFFSET I" to ACKFILE for every acknowledged record, as
//   the acknowledgement arrives; it keeps retrying through a broker restart (delivery.timeout.ms 180 s).
// verify: reads every partition from offset 0 to its end offset and checks that offsets are contiguous
//   from 0, every record's value matches its key, no key appears twice, and every acknowledged record
//   in the ACKFILEs is at its acknowledged partition and offset. Exit status 0 only if all holds.
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class CrashCheck {
    static final int VALUE_SIZE = 512;

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: CrashCheck produce BOOTSTRAP TOPIC PARTITIONS FROM COUNT ACKFILE"
                    + " | verify BOOTSTRAP TOPIC PARTITIONS ACKFILE...");
            System.exit(2);
        }
        String bootstrap = args[1];
        String topic = args[2];
        int partitions = Integer.parseInt(args[3]);
        switch (args[0]) {
            case "produce" -> produce(bootstrap, topic, partitions, Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Path.of(args[6]));
            case "verify" -> System.exit(verify(bootstrap, topic, partitions,
                    Arrays.stream(args, 4, args.length).map(Path::of).toList()) ? 0 : 1);
            default -> {
                System.err.println("unknown mode " + args[0]);
                System.exit(2);
            }
        }
    }

    static byte[] key(long i) {
        return ("key-" + i).getBytes(StandardCharsets.US_ASCII);
    }

    /** VALUE_SIZE bytes that only record i has: its index, then a pattern seeded by it. */
    static byte[] value(long i) {
        byte[] v = new byte[VALUE_SIZE];
        byte[] head = ("value-" + i + "-").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, v, 0, head.length);
        long x = i * 0x9E3779B97F4A7C15L + 1;
        for (int k = head.length; k < v.length; k++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            v[k] = (byte) x;
        }
        return v;
    }

    static void produce(String bootstrap, String topic, int partitions, int from, int count, Path ackFile)
            throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "5");
        p.put("request.timeout.ms", "10000");
        p.put("delivery.timeout.ms", "180000");
        p.put("reconnect.backoff.max.ms", "500");
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        try (BufferedWriter out = Files.newBufferedWriter(ackFile);
                KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            Thread flusher = Thread.ofVirtual().start(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        Thread.sleep(50);
                        synchronized (out) {
                            out.flush();
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            });
            for (long i = from; i < (long) from + count; i++) {
                long index = i;
                producer.send(new ProducerRecord<>(topic, key(i), value(i)), (m, e) -> {
                    if (e != null) {
                        if (failed.getAndIncrement() == 0) System.err.println("first failed send: " + e);
                        return;
                    }
                    acked.incrementAndGet();
                    synchronized (out) {
                        try {
                            out.write(m.partition() + " " + m.offset() + " " + index + "\n");
                        } catch (java.io.IOException x) {
                            throw new java.io.UncheckedIOException(x);
                        }
                    }
                });
            }
            producer.flush();
            flusher.interrupt();
            flusher.join();
        }
        System.out.printf("produce: %d sent, %d acknowledged, %d failed%n", count, acked.get(), failed.get());
    }

    static boolean verify(String bootstrap, String topic, int partitions, List<Path> ackFiles) throws Exception {
        Map<Integer, Map<Long, Long>> acked = new HashMap<>();
        long ackCount = 0;
        for (Path f : ackFiles) {
            for (String line : Files.readAllLines(f)) {
                String[] s = line.trim().split(" ");
                if (s.length != 3) continue; // a line cut short by a killed checker would be here; none expected
                Long before = acked.computeIfAbsent(Integer.parseInt(s[0]), x -> new HashMap<>())
                        .put(Long.parseLong(s[1]), Long.parseLong(s[2]));
                if (before != null) {
                    System.err.println("FAIL: offset " + s[0] + "@" + s[1] + " acknowledged twice");
                    return false;
                }
                ackCount++;
            }
        }
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < partitions; i++) tps.add(new TopicPartition(topic, i));
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        p.put("max.partition.fetch.bytes", String.valueOf(4 << 20));
        BitSet seen = new BitSet();
        long read = 0;
        long present = 0;
        List<String> failures = new ArrayList<>();
        Map<Integer, Long> next = new HashMap<>();
        Map<TopicPartition, Long> ends;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            ends = consumer.endOffsets(tps);
            long total = ends.values().stream().mapToLong(Long::longValue).sum();
            long idleSince = System.currentTimeMillis();
            while (read < total && System.currentTimeMillis() - idleSince < 60_000 && failures.size() < 20) {
                var records = consumer.poll(Duration.ofMillis(500));
                if (!records.isEmpty()) idleSince = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    read++;
                    long want = next.getOrDefault(r.partition(), 0L);
                    if (r.offset() != want) failures.add("offset gap in " + r.partition() + ": " + want + " -> " + r.offset());
                    next.put(r.partition(), r.offset() + 1);
                    String k = new String(r.key(), StandardCharsets.US_ASCII);
                    long i = Long.parseLong(k.substring(4));
                    if (!Arrays.equals(value(i), r.value())) failures.add("wrong value for " + k + " at " + r.partition() + "@" + r.offset());
                    if (seen.get((int) i)) failures.add(k + " twice, again at " + r.partition() + "@" + r.offset());
                    seen.set((int) i);
                    Long ackedIndex = acked.getOrDefault(r.partition(), Map.of()).get(r.offset());
                    if (ackedIndex != null) {
                        present++;
                        if (ackedIndex != i) failures.add(r.partition() + "@" + r.offset() + " was acknowledged as key-" + ackedIndex + ", holds " + k);
                    }
                }
            }
            if (read < total) failures.add("read " + read + " of " + total + " records below the end offsets " + ends);
        }
        if (present != ackCount) failures.add((ackCount - present) + " acknowledged records missing");
        for (var e : acked.entrySet()) {
            long end = ends.getOrDefault(new TopicPartition(topic, e.getKey()), 0L);
            for (long o : e.getValue().keySet()) {
                if (o >= end) {
                    failures.add("acknowledged " + e.getKey() + "@" + o + " is beyond the end offset " + end);
                    break;
                }
            }
        }
        System.out.printf("verify: %d records read (offsets 0..end in %d partitions, end offsets %s), %d acknowledged"
                        + " all present at their offsets: %s, %d present but never acknowledged%n", read, partitions,
                new java.util.TreeMap<>(next), ackCount, failures.isEmpty() ? "yes" : "NO", read - present);
        failures.forEach(f -> System.err.println("FAIL: " + f));
        return failures.isEmpty();
    }
}
