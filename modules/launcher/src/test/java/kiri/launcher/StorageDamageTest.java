package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, findings 3 and 9, as a user of {@code kiri broker} sees them: damaged storage stops the broker with one
 * line naming the file and the cause (exit 1), and {@code recover=truncate} starts it without losing the intact data
 * after the damage or reusing its offsets.
 */
class StorageDamageTest {
    @TempDir
    Path dir;

    private static String[] broker(String storage) {
        return new String[] {"broker", "--storage", storage, "--listener", "tcp://127.0.0.1:0"};
    }

    @Test
    void aCorruptTopicFileIsOneLineNamingTheFile() throws Exception {
        Path data = dir.resolve("data");
        Broker b = InProcessBroker.start("file:" + data);
        try {
            KeyedRecords.createTopic(InProcessBroker.bootstrap(b), "t", 1);
        } finally {
            b.close();
        }
        Path meta;
        try (var topics = Files.list(data.resolve("topics"))) {
            meta = topics.filter(f -> f.toString().endsWith(".topic")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(meta);
        Files.write(meta, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), broker("file:" + data));
        assertEquals(1, exit);
        List<String> lines = err.toString().lines().toList();
        assertEquals(1, lines.size(), err.toString());
        assertTrue(lines.getFirst().startsWith("kiri: cannot open file:" + data + ": " + meta + " is corrupt at byte "), lines.getFirst());
    }

    /** Finding 3: a missing middle segment used to cost every later segment and let new records reuse their offsets. */
    @Test
    void aMissingSegmentStopsTheBrokerUntilTheOperatorAcceptsTheLoss() throws Exception {
        Path data = dir.resolve("data");
        String topic = "seg";
        TopicPartition tp = new TopicPartition(topic, 0);
        Broker b = InProcessBroker.start("file:" + data);
        try {
            String bootstrap = InProcessBroker.bootstrap(b);
            try (var admin = KeyedRecords.admin(bootstrap)) {
                admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 1, (short) 1)
                        .configs(Map.of("segment.bytes", "1048576")))).all().get(60, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
                for (int i = 0; i < 300; i++) p.send(new ProducerRecord<>(topic, 0, "k" + i, new byte[16_000])).get(60, TimeUnit.SECONDS);
            }
        } finally {
            b.close();
        }
        Path partition;
        try (var d = Files.list(data.resolve("data"))) {
            partition = d.findFirst().orElseThrow();
        }
        List<Path> logs;
        try (var d = Files.list(partition)) {
            logs = d.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
        assertTrue(logs.size() >= 4, "segments: " + logs);
        Path missing = logs.get(1);
        Files.delete(missing);
        StringWriter err = new StringWriter();
        assertEquals(1, Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), broker("file:" + data)));
        assertEquals(1, err.toString().lines().count(), err.toString());
        assertTrue(err.toString().contains(data.relativize(missing) + " is missing"), err.toString());
        assertTrue(err.toString().contains("?recover=truncate"), err.toString());

        Broker again = InProcessBroker.start("file:" + data + "?recover=truncate");
        try {
            String bootstrap = InProcessBroker.bootstrap(again);
            try (var consumer = KeyedRecords.consumer(bootstrap, "earliest", new Properties())) {
                consumer.assign(List.of(tp));
                long end = consumer.endOffsets(List.of(tp)).get(tp);
                assertEquals(300, end, "the end offset is kept");
                int read = 0;
                long last = -1;
                long giveUp = System.currentTimeMillis() + KeyedRecords.GIVE_UP_MS;
                while (last < end - 1 && System.currentTimeMillis() < giveUp) {
                    for (var r : consumer.poll(java.time.Duration.ofMillis(200))) {
                        read++;
                        last = r.offset();
                    }
                }
                assertEquals(end - 1, last, "the segments after the missing one are all there");
                assertTrue(read < 300 && read > 150, "only the missing segment's records are gone: " + read);
            }
            try (KafkaProducer<String, byte[]> p = producer(bootstrap)) {
                assertEquals(300, p.send(new ProducerRecord<>(topic, 0, "new", new byte[1])).get(60, TimeUnit.SECONDS).offset(),
                        "new records never reuse an offset");
            }
        } finally {
            again.close();
        }
    }

    private static KafkaProducer<String, byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new KafkaProducer<>(p);
    }
}
