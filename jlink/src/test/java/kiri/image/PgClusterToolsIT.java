package kiri.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiri.testsupport.Wait;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka's command-line tools and kcat against three broker processes over one PostgreSQL:
 * {@code kafka-topics --describe} shows partitions led by all three, {@code kafka-consumer-groups --describe}
 * shows a group's committed offsets and lag, {@code kcat -L} lists the three brokers and {@code kcat -C} reads
 * every partition through one bootstrap broker.
 */
class PgClusterToolsIT {
    private static final Pattern DESCRIBED = Pattern.compile("Partition: (\\d+)\\s+Leader: (\\d+)");
    private static final int PARTITIONS = 6;
    private static final int RECORDS = 600;
    private static final ProcessBuilder.Redirect DEV_NULL = ProcessBuilder.Redirect.from(new java.io.File("/dev/null"));

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void kafkaToolsAndKcatSeeTheCluster() throws Exception {
        try (PgBrokers cluster = new PgBrokers(dir, 3, "", List.of())) {
            String all = cluster.bootstrap();
            ok(tool("TopicCommand", "--bootstrap-server", cluster.bootstrap(1), "--create", "--topic", "tools",
                    "--partitions", Integer.toString(PARTITIONS), "--replication-factor", "1"));
            Wait.until("kafka-topics --describe shows leaders on brokers 1, 2 and 3", () -> leadersDescribed(all).equals(Set.of(1, 2, 3)));

            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap(1));
            pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
                for (int i = 0; i < RECORDS; i++) producer.send(new ProducerRecord<>("tools", "key-" + i, "value-" + i));
                producer.flush();
            }
            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap(2));
            cp.put(ConsumerConfig.GROUP_ID_CONFIG, "tools-group");
            cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
                consumer.subscribe(List.of("tools"));
                int read = 0;
                long giveUp = System.currentTimeMillis() + TimeUnit.MINUTES.toMillis(2);
                while (read < RECORDS && System.currentTimeMillis() < giveUp) read += consumer.poll(Duration.ofMillis(500)).count();
                assertEquals(RECORDS, read, "the group read every record");
                consumer.commitSync();
            }

            String groups = ok(tool("consumer.group.ConsumerGroupCommand", "--bootstrap-server", cluster.bootstrap(3), "--describe",
                    "--group", "tools-group"));
            long rows = groups.lines().filter(l -> l.startsWith("tools-group")).count();
            assertEquals(PARTITIONS, rows, groups);
            long offsets = 0;
            for (String line : groups.lines().filter(l -> l.startsWith("tools-group")).toList()) {
                String[] col = line.trim().split("\\s+"); // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
                assertEquals("tools", col[1], line);
                assertEquals(col[3], col[4], "committed at the end: " + line);
                assertEquals("0", col[5], "no lag: " + line);
                offsets += Long.parseLong(col[3]);
            }
            assertEquals(RECORDS, offsets, groups);
            assertTrue(ok(tool("consumer.group.ConsumerGroupCommand", "--bootstrap-server", all, "--list")).lines()
                    .anyMatch("tools-group"::equals));

            String metadata = kcat(cluster.bootstrap(1), "-L");
            assertTrue(metadata.contains("3 brokers:"), metadata);
            for (int node = 1; node <= 3; node++) {
                assertTrue(metadata.contains("broker " + node + " at " + cluster.bootstrap(node)), metadata);
                assertTrue(metadata.contains("leader " + node + ","), "kcat sees broker " + node + " lead: " + metadata);
            }
            assertTrue(metadata.contains("topic \"tools\" with " + PARTITIONS + " partitions"), metadata);

            // one bootstrap broker: kcat follows each partition's leader to the others
            List<String> consumed = kcat(cluster.bootstrap(3), "-C", "-t", "tools", "-o", "beginning", "-e", "-q",
                    "-f", "%k\\n").lines().toList();
            assertEquals(RECORDS, consumed.size(), "kcat read every record");
            assertEquals(RECORDS, new HashSet<>(consumed).size(), "each once");
        }
    }

    /** The leaders kafka-topics --describe names for topic "tools". */
    private static Set<Integer> leadersDescribed(String bootstrap) throws Exception {
        String out = ok(tool("TopicCommand", "--bootstrap-server", bootstrap, "--describe", "--topic", "tools"));
        Set<Integer> leaders = new HashSet<>();
        Set<Integer> partitions = new HashSet<>();
        Matcher m = DESCRIBED.matcher(out);
        while (m.find()) {
            partitions.add(Integer.parseInt(m.group(1)));
            leaders.add(Integer.parseInt(m.group(2)));
        }
        assertEquals(PARTITIONS, partitions.size(), out);
        System.out.println(out);
        return leaders;
    }

    private static String ok(Run run) {
        assertEquals(0, run.exit(), run.out());
        return run.out();
    }

    private record Run(int exit, String out) {
    }

    /** Runs {@code org.apache.kafka.tools.<tool>} (kafka-topics.sh and friends) in a child JVM on this test's class path. */
    private static Run tool(String tool, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.apache.kafka.tools." + tool));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(DEV_NULL).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), tool + " finished");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String kcat(String bootstrap, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", bootstrap));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(DEV_NULL).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "kcat finished");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        return text;
    }
}
