package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetch from the {@code file:} engine, whose batches reach the socket as file ranges
 * ({@code transferTo}, no heap copy): a real KafkaConsumer reads back, byte for byte, records that
 * span several 1 MiB segments, with small and default fetch sizes.
 */
class FileSegmentsFetchTest {
    @TempDir
    Path dir;

    private static byte[] value(int i) {
        byte[] v = new byte[500 + i % 1000];
        new Random(i).nextBytes(v);
        return v;
    }

    @Test
    void aRealConsumerReadsRecordsAcrossSeveralSegmentsByteForByte() throws Exception {
        Path data = dir.resolve("data");
        String topic = "segmented";
        int n = 8_000; // ~8 MiB of values: ~4 MiB in each of the two partitions, so at least three 1 MiB segments each
        Broker broker = InProcessBroker.start("file:" + data);
        try {
            String bootstrap = InProcessBroker.bootstrap(broker);
            try (Admin admin = KeyedRecords.admin(bootstrap)) {
                admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1)
                        .configs(Map.of("segment.bytes", Integer.toString(1 << 20))))).all().get();
            }
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            pp.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp,
                    new org.apache.kafka.common.serialization.ByteArraySerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                for (int i = 0; i < n; i++) {
                    producer.send(new ProducerRecord<>(topic, i % 2, Integer.toString(i).getBytes(), value(i)));
                }
                producer.flush();
            }
            long logs;
            try (Stream<Path> files = Files.walk(data)) {
                logs = files.filter(p -> p.getFileName().toString().endsWith(".log")).count();
            }
            assertTrue(logs >= 6, "the records span several segments: " + logs + " .log files");

            // small fetches; default ones; fetches short of min.bytes, which long-poll and read again
            int[][] settings = {{64 * 1024, 1}, {1 << 20, 1}, {1 << 20, 8 << 20}};
            for (int[] setting : settings) {
                List<ConsumerRecord<byte[], byte[]>> got = consume(bootstrap, topic, n, setting[0], setting[1]);
                assertEquals(n, got.size(), "every record once");
                long[] next = new long[2];
                for (ConsumerRecord<byte[], byte[]> r : got) {
                    int i = Integer.parseInt(new String(r.key()));
                    assertEquals(i % 2, r.partition());
                    assertEquals(next[r.partition()]++, r.offset(), "offsets consecutive");
                    assertEquals(i / 2, r.offset(), "record " + i + " at its offset");
                    assertArrayEquals(value(i), r.value(), "record " + i + " byte for byte");
                }
            }

            // Every fetch released its pin on the segments it sent from: once DeleteRecords drops all
            // but the active segments, no file descriptor of this JVM points at their deleted files.
            // (Best effort: a GC may close a leaked, unreachable channel first; FetchHandlerReleaseTest
            // counts releases exactly.)
            try (Admin admin = KeyedRecords.admin(bootstrap)) {
                admin.deleteRecords(Map.of(new TopicPartition(topic, 0), RecordsToDelete.beforeOffset(n / 2),
                        new TopicPartition(topic, 1), RecordsToDelete.beforeOffset(n / 2))).all().get();
            }
            long deadline = System.currentTimeMillis() + 30_000;
            long left = logs;
            while (left >= logs && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
                try (Stream<Path> files = Files.walk(data)) {
                    left = files.filter(p -> p.getFileName().toString().endsWith(".log")).count();
                }
            }
            assertTrue(left < logs, "DeleteRecords deleted segment files (" + logs + " -> " + left + "): else the check below proves nothing");
            Path fds = Path.of("/proc/self/fd");
            if (Files.isDirectory(fds)) {
                deadline = System.currentTimeMillis() + 30_000;
                List<String> open = deletedLogsStillOpen(fds, data);
                while (!open.isEmpty() && System.currentTimeMillis() < deadline) {
                    Thread.sleep(50);
                    open = deletedLogsStillOpen(fds, data);
                }
                assertEquals(List.of(), open, "deleted segments still open: a fetch result was never released");
            }
        } finally {
            broker.close();
        }
    }

    private static List<String> deletedLogsStillOpen(Path fds, Path data) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> links = Files.list(fds)) {
            for (Path fd : (Iterable<Path>) links::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(data.toString()) && target.endsWith(".log (deleted)")) {
                        out.add(target);
                    }
                } catch (java.io.IOException | UnsupportedOperationException e) {
                    // closed meanwhile
                }
            }
        }
        return out;
    }

    @Test
    void kcatConsumesLinesAcrossSegments() throws Exception {
        Path data = dir.resolve("kcat");
        String topic = "kcat-segmented";
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 4000; i++) { // ~4 MiB: several 1 MiB segments
            lines.append(i).append('-').append(Integer.toHexString(i * 7919).repeat(1 + i % 250)).append('\n');
        }
        Broker broker = InProcessBroker.start("file:" + data);
        try {
            String bootstrap = InProcessBroker.bootstrap(broker);
            try (Admin admin = KeyedRecords.admin(bootstrap)) {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                        .configs(Map.of("segment.bytes", Integer.toString(1 << 20))))).all().get();
            }
            kcat(bootstrap, lines.toString(), "-P", "-t", topic, "-p", "0");
            String out = kcat(bootstrap, "", "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
                    "-f", "%s\n");
            assertEquals(lines.toString(), out, "kcat reads back every line in order");
        } finally {
            broker.close();
        }
    }

    private static String kcat(String bootstrap, String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", bootstrap));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "kcat finished");
        assertEquals(0, p.exitValue(), "kcat " + args[0]);
        return out;
    }

    private static List<ConsumerRecord<byte[], byte[]>> consume(String bootstrap, String topic, int n,
            int maxPartitionBytes, int minBytes) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, maxPartitionBytes);
        p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, minBytes);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        List<TopicPartition> tps = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>(n);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long giveUp = System.currentTimeMillis() + KeyedRecords.GIVE_UP_MS;
            while (out.size() < n && System.currentTimeMillis() < giveUp) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
            }
        }
        return out;
    }
}
