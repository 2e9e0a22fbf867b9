package kiri.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiri.testsupport.PostgresServer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The postgres:// engine as a user installs it: the image as built (no postgres module inside), the
 * plugin folder of modules/storage-postgres given with --plugins, a real PostgreSQL. A default
 * (idempotent, acks=all) producer, a transactional producer (one commit, one abort) and a consumer group
 * with read_committed see exactly the committed records, also after the broker restarted.
 */
class PostgresPluginIT {
    private static final Pattern LISTENING = Pattern.compile("^kiri broker listening on tcp://[^:]+:(\\d+) .*");

    @TempDir
    Path work;

    private Process broker;

    @AfterEach
    void stop() throws InterruptedException {
        if (broker != null && broker.isAlive()) {
            broker.destroy();
            if (!broker.waitFor(20, TimeUnit.SECONDS)) broker.destroyForcibly();
        }
    }

    private String start(PostgresServer pg) throws Exception {
        Path image = Path.of(System.getProperty("kiri.image", "target/kiri"));
        Path plugin = Path.of(System.getProperty("kiri.postgres.plugin", "../modules/storage-postgres/target/plugin"));
        assertTrue(Files.isDirectory(plugin), "no plugin folder at " + plugin);
        // the password comes from PGPASSWORD, not the command line
        ProcessBuilder pb = new ProcessBuilder(image.resolve("bin/kiri").toString(), "broker", "--plugins", plugin.toString(),
                "--storage", "postgres://" + PostgresServer.USER + "@127.0.0.1:" + pg.port() + "/postgres",
                "--listener", "tcp://127.0.0.1:0", "--advertised-listener", "tcp://127.0.0.1:0")
                .redirectError(work.resolve("broker.err").toFile());
        pb.environment().put("PGPASSWORD", PostgresServer.PASSWORD);
        broker = pb.start();
        BufferedReader r = new BufferedReader(new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return String.valueOf(r.readLine());
            } catch (Exception e) {
                return e.toString();
            }
        }).get(120, TimeUnit.SECONDS);
        Matcher m = LISTENING.matcher(line);
        assertTrue(m.matches(), "startup line: " + line + "\nstderr: " + Files.readString(work.resolve("broker.err")));
        assertTrue(line.contains("postgres://kiri@127.0.0.1:" + pg.port() + "/postgres"), line);
        assertTrue(line.contains("kiri.storage.postgres"), "loaded as a plugin: " + line);
        return "127.0.0.1:" + m.group(1);
    }

    private static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        return p;
    }

    @Test
    void producerTransactionsAndAGroupOverThePlugin() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String bootstrap = start(pg);
            List<String> expected = new ArrayList<>();
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap))) {
                for (int i = 0; i < 500; i++) {
                    producer.send(new ProducerRecord<>("orders", "k" + (i % 7), "plain-" + i));
                    expected.add("plain-" + i);
                }
                producer.flush();
            }
            Properties tx = producerProps(bootstrap);
            tx.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-1");
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(tx)) {
                producer.initTransactions();
                producer.beginTransaction();
                for (int i = 0; i < 50; i++) producer.send(new ProducerRecord<>("orders", "k" + (i % 7), "committed-" + i));
                producer.commitTransaction();
                for (int i = 0; i < 50; i++) expected.add("committed-" + i);
                producer.beginTransaction();
                for (int i = 0; i < 50; i++) producer.send(new ProducerRecord<>("orders", "k" + (i % 7), "aborted-" + i));
                producer.flush();
                producer.abortTransaction();
            }
            assertEquals(expected.stream().sorted().toList(), consumeAll(bootstrap, "g1", expected.size()));

            // the broker stops and starts again: everything is read back from PostgreSQL
            broker.destroy();
            assertTrue(broker.waitFor(30, TimeUnit.SECONDS));
            String again = start(pg);
            assertEquals(expected.stream().sorted().toList(), consumeAll(again, "g2", expected.size()));
        }
    }

    private static List<String> consumeAll(String bootstrap, String group, int count) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of("orders"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (seen.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) seen.add(r.value());
            }
            consumer.commitSync();
            // nothing more arrives (no aborted record, no duplicate)
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofSeconds(2))) seen.add(r.value());
        }
        return seen.stream().sorted().toList();
    }
}
