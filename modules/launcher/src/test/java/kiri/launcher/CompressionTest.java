package kiri.launcher;

import static kiri.launcher.KeyedRecords.BASE_TS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compressed record batches from kafka-clients (gzip, snappy, lz4, zstd, with kafka-clients' own codecs:
 * java.util.zip, snappy-java, lz4-java, zstd-jni) through a Kiri broker on the memory and file engines:
 * the broker stores them as received and a KafkaConsumer reads every record back unchanged.
 */
class CompressionTest {
    static final List<String> CODECS = List.of("gzip", "snappy", "lz4", "zstd");
    private static final int RECORDS = 300;

    private static Broker memory;
    private static Broker file;
    private static Path dir;

    @BeforeAll
    static void start() throws Exception {
        memory = InProcessBroker.start("memory://");
        dir = Files.createTempDirectory("kiri-compression");
        file = InProcessBroker.start("file:" + dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (memory != null) {
            memory.close();
        }
        if (file != null) {
            file.close();
        }
        if (dir != null) {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static Stream<Arguments> codecsAndEngines() {
        List<Arguments> out = new ArrayList<>();
        for (String codec : CODECS) {
            out.add(Arguments.of(codec, "memory"));
            out.add(Arguments.of(codec, "file"));
        }
        return out.stream();
    }

    private static String bootstrap(String engine) {
        return InProcessBroker.bootstrap(engine.equals("memory") ? memory : file);
    }

    /**
     * Sends records i = 0..n-1 of {@link KeyedRecords} to partition 0 with {@code compression.type}, in
     * batches of a few dozen records (linger and batch size make the producer compress many at once).
     */
    static RecordMetadata[] produceCompressed(String bootstrap, String topic, String codec, int n) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 50);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 4096);
        RecordMetadata[] landed = new RecordMetadata[n];
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < n; i++) {
                int index = i;
                producer.send(new ProducerRecord<>(topic, 0, BASE_TS + i, "key-" + i, KeyedRecords.value(i),
                        KeyedRecords.headers(i)), (m, e) -> {
                            if (e != null) {
                                failure.compareAndSet(null, e);
                            } else {
                                landed[index] = m;
                            }
                        });
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return landed;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("codecsAndEngines")
    void kafkaClientsRoundTripCompressedBatches(String codec, String engine) throws Exception {
        String bootstrap = bootstrap(engine);
        String topic = "compressed-" + codec;
        KeyedRecords.createTopic(bootstrap, topic, 1);
        RecordMetadata[] landed = produceCompressed(bootstrap, topic, codec, RECORDS);
        TopicPartition tp = new TopicPartition(topic, 0);
        assertTrue(landed[RECORDS - 1].offset() == RECORDS - 1 && landed[0].offset() == 0, "offsets 0..n-1");

        List<ConsumerRecord<String, byte[]>> records = KeyedRecords.consume(bootstrap, List.of(tp), RECORDS);
        KeyedRecords.check(records, landed);

        try (KafkaConsumer<String, byte[]> consumer = KeyedRecords.consumer(bootstrap, "earliest", new Properties())) {
            assertEquals(Map.of(tp, 0L), consumer.beginningOffsets(List.of(tp)));
            assertEquals(Map.of(tp, (long) RECORDS), consumer.endOffsets(List.of(tp)));
            // A timestamp inside a compressed batch: like Kafka, the broker looks inside the batch and
            // answers the first record at or after it (not the batch's first offset).
            for (int i : new int[] {0, 1, 137, RECORDS - 1}) {
                OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(tp, BASE_TS + i)).get(tp);
                assertEquals(i, found.offset(), "offsetsForTimes(BASE_TS + " + i + ")");
                assertEquals(BASE_TS + i, found.timestamp());
            }
            assertNull(consumer.offsetsForTimes(Map.of(tp, BASE_TS + RECORDS)).get(tp), "no record that late");
        }
        try (Admin admin = KeyedRecords.admin(bootstrap)) {
            assertEquals(RECORDS - 1, admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).all().get().get(tp)
                    .offset(), "max timestamp is the last record's");
        }
    }

    private record Result(int exit, String out, String err) {
    }

    /** Runs {@code kiri ARGS} in this JVM with {@code stdin}; asserts exit 0. */
    private static synchronized Result kiri(String stdin, String... args) {
        java.io.InputStream saved = System.in;
        System.setIn(new java.io.ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
            assertEquals(0, exit, "kiri " + String.join(" ", args) + "\nout: " + out + "\nerr: " + err);
            return new Result(exit, out.toString(), err.toString());
        } finally {
            System.setIn(saved);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void kiriCatConsumeReadsKafkaCompressedBatches(String codec) throws Exception {
        String bootstrap = bootstrap("file");
        String topic = "cat-reads-" + codec;
        KeyedRecords.createTopic(bootstrap, topic, 1);
        produceCompressed(bootstrap, topic, codec, RECORDS);
        Result r = kiri("", "cat", "consume", "--bootstrap", bootstrap, "--topic", topic, "--from-beginning",
                "--max-messages", Integer.toString(RECORDS), "--format", "json");
        List<String> lines = r.out().lines().toList();
        assertEquals(RECORDS, lines.size(), r.err());
        for (int i = 0; i < RECORDS; i++) {
            String want = "{\"topic\":\"" + topic + "\",\"partition\":0,\"offset\":" + i + ",\"timestamp\":"
                    + (BASE_TS + i) + ",\"key\":\"key-" + i + "\",\"value\":\""
                    + new String(KeyedRecords.value(i), StandardCharsets.UTF_8) + "\",\"headers\":{\"seq\":\"" + i
                    + "\",\"empty\":\"\",\"null\":null}}";
            assertEquals(want, lines.get(i));
        }
    }

    static Stream<String> codecs() {
        return CODECS.stream();
    }

    /**
     * Bytes of batches the file engine stores for {@code topic}'s partitions, as DescribeLogDirs reports them (not the
     * segment files' lengths: the active segment has a zone of preallocated zeros after its batches).
     */
    private static long storedBytes(String topic) throws Exception {
        try (Admin admin = KeyedRecords.admin(bootstrap("file"))) {
            return admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0).values().stream()
                    .flatMap(d -> d.replicaInfos().entrySet().stream())
                    .filter(e -> e.getKey().topic().equals(topic))
                    .mapToLong(e -> e.getValue().size()).sum();
        }
    }

    private static List<ConsumerRecord<String, byte[]>> kafkaConsumeAll(String bootstrap, String topic, int n) {
        return KeyedRecords.consume(bootstrap, List.of(new TopicPartition(topic, 0)), n);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void kiriCatProduceCompressesForKafkaConsumers(String codec) throws Exception {
        String bootstrap = bootstrap("file");
        String topic = "cat-writes-" + codec;
        kiri("", "topic", "create", topic, "--partitions", "1", "--bootstrap", bootstrap);
        StringBuilder lines = new StringBuilder();
        String filler = "compressible ".repeat(40);
        for (int i = 0; i < RECORDS; i++) {
            lines.append("key-").append(i).append('\t').append(i).append(filler).append('\n');
        }
        kiri(lines.toString(), "cat", "produce", "--bootstrap", bootstrap, "--topic", topic, "--key-separator", "\t",
                "--compression", codec);
        List<ConsumerRecord<String, byte[]>> got = kafkaConsumeAll(bootstrap, topic, RECORDS);
        assertEquals(RECORDS, got.size());
        for (int i = 0; i < RECORDS; i++) {
            assertEquals(i, got.get(i).offset());
            assertEquals("key-" + i, got.get(i).key());
            assertEquals(i + filler, new String(got.get(i).value(), StandardCharsets.UTF_8));
        }
        long stored = storedBytes(topic);
        assertTrue(stored > 0 && stored < RECORDS * filler.length() / 4, "stored compressed: " + stored + " bytes");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void kiriPerfProduceCompressesForKafkaConsumers(String codec) throws Exception {
        String bootstrap = bootstrap("file");
        String topic = "perf-writes-" + codec;
        kiri("", "topic", "create", topic, "--partitions", "1", "--bootstrap", bootstrap);
        Result r = kiri("", "perf", "produce", "--bootstrap", bootstrap, "--topic", topic, "--records", "2000",
                "--record-size", "100", "--throughput", "-1", "--compression", codec, "--json");
        assertTrue(r.out().contains("\"acked\":2000,") && r.out().contains("\"compression\":\"" + codec + "\""),
                r.out());
        List<ConsumerRecord<String, byte[]>> got = kafkaConsumeAll(bootstrap, topic, 2000);
        assertEquals(2000, got.size());
        for (int i = 0; i < got.size(); i++) {
            assertEquals(i, got.get(i).offset());
            assertEquals(100, got.get(i).value().length);
        }
    }

    /** Runs kcat against {@code bootstrap}, asserts exit 0 and returns its stdout (stderr separately checked). */
    private static String kcat(String bootstrap, String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", bootstrap));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "kcat finished");
        assertEquals(0, p.exitValue(), "kcat " + command + ": " + out);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void kcatProducesCompressedForKafkaAndKiriConsumers(String codec) throws Exception {
        String bootstrap = bootstrap("memory");
        String topic = "kcat-writes-" + codec;
        KeyedRecords.createTopic(bootstrap, topic, 1);
        StringBuilder lines = new StringBuilder();
        String filler = " kcat".repeat(50);
        for (int i = 0; i < RECORDS; i++) {
            lines.append("key-").append(i).append('\t').append(i).append(filler).append('\n');
        }
        kcat(bootstrap, lines.toString(), "-P", "-t", topic, "-p", "0", "-K", "\t", "-z", codec);
        List<ConsumerRecord<String, byte[]>> got = kafkaConsumeAll(bootstrap, topic, RECORDS);
        assertEquals(RECORDS, got.size());
        for (int i = 0; i < RECORDS; i++) {
            assertEquals("key-" + i, got.get(i).key());
            assertEquals(i + filler, new String(got.get(i).value(), StandardCharsets.UTF_8));
        }
        // librdkafka's framings (e.g. raw snappy without snappy-java's header) through Kiri's own consumer
        Result r = kiri("", "cat", "consume", "--bootstrap", bootstrap, "--topic", topic, "--from-beginning",
                "--max-messages", Integer.toString(RECORDS), "--print-key");
        List<String> printed = r.out().lines().toList();
        assertEquals(RECORDS, printed.size(), r.err());
        for (int i = 0; i < RECORDS; i++) {
            assertEquals("key-" + i + "\t" + i + filler, printed.get(i));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void kcatConsumesKafkaCompressedBatches(String codec) throws Exception {
        String bootstrap = bootstrap("file");
        String topic = "kcat-reads-" + codec;
        KeyedRecords.createTopic(bootstrap, topic, 1);
        produceCompressed(bootstrap, topic, codec, RECORDS);
        String out = kcat(bootstrap, "", "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f",
                "%o|%k|%T|%h|%s\n");
        List<String> lines = out.lines().toList();
        assertEquals(RECORDS, lines.size(), out);
        for (int i = 0; i < RECORDS; i++) {
            assertEquals(i + "|key-" + i + "|" + (BASE_TS + i) + "|seq=" + i + ",empty=,null=NULL|"
                    + new String(KeyedRecords.value(i), StandardCharsets.UTF_8), lines.get(i));
        }
    }

    @Test
    void anUnknownCodecIsAClearError() {
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), "cat", "produce",
                "--bootstrap", bootstrap("memory"), "--topic", "x", "--compression", "brotli");
        assertTrue(exit != 0);
        assertTrue(err.toString().contains("unknown compression type 'brotli'"), err.toString());
    }

    @Test
    void topicCompressionTypeDefaultsToProducer() throws Exception {
        String bootstrap = bootstrap("memory");
        KeyedRecords.createTopic(bootstrap, "compression-config", 1);
        try (Admin admin = KeyedRecords.admin(bootstrap)) {
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "compression-config");
            Config config = admin.describeConfigs(List.of(topic)).all().get().get(topic);
            assertEquals("producer", config.get("compression.type").value());
        }
    }

    /**
     * A topic compression.type other than producer is accepted and described, but Kiri does not recompress
     * (Kafka would rewrite the batches in that codec): batches stay as the producer compressed them and still
     * read back unchanged.
     */
    @Test
    void aTopicCodecIsKeptButBatchesAreStoredAsProduced() throws Exception {
        String bootstrap = bootstrap("file");
        try (Admin admin = KeyedRecords.admin(bootstrap)) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("topic-zstd", 1, (short) 1)
                    .configs(Map.of("compression.type", "zstd")))).all().get();
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "topic-zstd");
            assertEquals("zstd", admin.describeConfigs(List.of(topic)).all().get().get(topic).get("compression.type")
                    .value());
        }
        RecordMetadata[] landed = produceCompressed(bootstrap, "topic-zstd", "gzip", 50);
        KeyedRecords.check(KeyedRecords.consume(bootstrap, List.of(new TopicPartition("topic-zstd", 0)), 50), landed);
    }
}
