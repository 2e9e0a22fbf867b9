package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --metrics-listener}: the families a scrape shows after real clients produced, fetched and committed. */
class MetricsEndpointTest {
    @TempDir
    Path dir;

    @Test
    void scrapeShowsRequestsTopicsOffsetsLagFsyncAndProcess() throws Exception {
        try (Broker broker = InProcessBroker.start("file:" + dir.resolve("data"))) {
            String base = "http://127.0.0.1:" + broker.serveMetrics(new ListenerUrl("127.0.0.1", 0)).getPort();
            String bootstrap = InProcessBroker.bootstrap(broker);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("m", 2, (short) 1))).all().get();
                Properties p = new Properties();
                p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
                    for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>("m", 0, "k", "v" + i)).get();
                }
                // a group that committed 4 of partition 0's 10 records: lag 6
                admin.alterConsumerGroupOffsets("g", Map.of(new TopicPartition("m", 0), new OffsetAndMetadata(4))).all().get();
                try (var consumer = new KafkaConsumer<String, String>(GroupTestBroker.stringConsumer(bootstrap, "reader"))) {
                    consumer.assign(List.of(new TopicPartition("m", 0)));
                    int read = 0;
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (read < 10 && System.nanoTime() < deadline) read += consumer.poll(Duration.ofMillis(200)).count();
                    assertEquals(10, read);
                }
            }
            Http.Reply scrape = Http.get(base + "/metrics");
            assertEquals(200, scrape.status());
            assertTrue(scrape.contentType().startsWith("text/plain; version=0.0.4"), scrape.contentType());
            String text = scrape.body();
            assertEquals(10, value(text, "kiri_topic_records_in_total{topic=\"m\"}"));
            assertTrue(value(text, "kiri_topic_bytes_in_total{topic=\"m\"}") > 10 * 3);
            assertTrue(value(text, "kiri_topic_bytes_out_total{topic=\"m\"}") > 0);
            assertEquals(2, value(text, "kiri_topic_partitions{topic=\"m\"}"));
            assertTrue(value(text, "kiri_topic_log_size_bytes{topic=\"m\"}") > 0);
            assertEquals(10, value(text, "kiri_partition_log_end_offset{topic=\"m\",partition=\"0\"}"));
            assertEquals(0, value(text, "kiri_partition_log_start_offset{topic=\"m\",partition=\"0\"}"));
            assertEquals(4, value(text, "kiri_consumer_group_committed_offset{group=\"g\",topic=\"m\",partition=\"0\"}"));
            assertEquals(6, value(text, "kiri_consumer_group_lag{group=\"g\",topic=\"m\",partition=\"0\"}"));
            assertTrue(value(text, "kiri_requests_total{api=\"Produce\"}") >= 10);
            assertTrue(value(text, "kiri_request_duration_seconds_count{api=\"Produce\"}") >= 10);
            assertTrue(value(text, "kiri_request_duration_seconds_bucket{api=\"Fetch\",le=\"+Inf\"}") >= 1);
            assertTrue(value(text, "kiri_log_fsync_duration_seconds_count") >= 1, "fsync histogram");
            assertTrue(value(text, "kiri_process_resident_memory_bytes") > 1 << 20);
            assertTrue(value(text, "kiri_buffer_pool_bytes{state=\"pooled\"}") > 0);
            assertEquals(1, value(text, "kiri_storage_scrape_success"));
            assertTrue(text.contains("# TYPE kiri_request_duration_seconds histogram"));
            assertFamiliesAreContiguous(text);

            assertEquals(200, Http.get(base + "/health/live").status());
            Http.Reply ready = Http.get(base + "/health/ready");
            assertEquals(200, ready.status(), ready.body());
            assertEquals(404, Http.get(base + "/metrics/more").status());
            assertEquals(405, Http.request("POST", base + "/metrics").status());
        }
    }

    @Test
    void errorCodesOfResponsesAreCountedPerApi() throws Exception {
        try (Broker broker = InProcessBroker.start("memory://")) {
            String base = "http://127.0.0.1:" + broker.serveMetrics(new ListenerUrl("127.0.0.1", 0)).getPort();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    InProcessBroker.bootstrap(broker)))) {
                admin.createTopics(List.of(new NewTopic("twice", 1, (short) 1))).all().get();
                assertThrows(Exception.class, () -> admin.createTopics(List.of(new NewTopic("twice", 1, (short) 1))).all().get());
            }
            String text = Http.get(base + "/metrics").body();
            assertEquals(1, value(text, "kiri_request_errors_total{api=\"CreateTopics\",error=\"TOPIC_ALREADY_EXISTS\"}"));
        }
    }

    @Test
    void badOrBusyMetricsListenerIsOneClearError() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> MetricsEndpoint.parse("tcp://127.0.0.1:1"));
        assertEquals("--metrics-listener: listener 'tcp://127.0.0.1:1' must look like http://HOST:PORT", e.getMessage());
        try (Broker broker = InProcessBroker.start("null://")) {
            int port = broker.serveMetrics(new ListenerUrl("127.0.0.1", 0)).getPort();
            try (Broker other = InProcessBroker.start("null://")) {
                var busy = assertThrows(java.io.IOException.class, () -> other.serveMetrics(new ListenerUrl("127.0.0.1", port)));
                assertTrue(busy.getMessage().startsWith("metrics listener http://127.0.0.1:" + port + ": "), busy.getMessage());
            }
        }
    }

    /** Prometheus rejects a family whose samples are split by another family's. */
    private static void assertFamiliesAreContiguous(String text) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String family = line.split(" ")[2];
                assertTrue(seen.add(family), "family " + family + " appears twice");
            }
        }
    }

    static long value(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), () -> "no sample " + series + " in\n" + text);
        return (long) Double.parseDouble(m.group(1));
    }
}
