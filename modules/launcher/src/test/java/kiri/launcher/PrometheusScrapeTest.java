package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoublePredicate;
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

/**
 * A real Prometheus server (Debian's {@code prometheus} package: {@code scripts/setup.d/prometheus.sh, run by ./test.sh}) scraping a
 * broker every second while real clients produce and consume; asserted through Prometheus' query API, as a
 * dashboard or an alert would see it: the records-in rate is above zero while producing, and a group's lag is
 * above zero and then falls to zero once it has consumed and committed everything.
 */
class PrometheusScrapeTest {
    private static final Path PROMETHEUS = Path.of(System.getProperty("kiri.prometheus", "/usr/bin/prometheus"));
    private static final Duration DEADLINE = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    @Test
    void prometheusSeesRecordsInAndLagFallingToZero() throws Exception {
        assertTrue(Files.isExecutable(PROMETHEUS), "Prometheus not found at " + PROMETHEUS
                + ": install Debian's 'prometheus' package (scripts/setup.d/prometheus.sh, run by ./test.sh does it)");
        try (Broker broker = InProcessBroker.start("file:" + dir.resolve("data"))) {
            int metricsPort = broker.serveMetrics(new ListenerUrl("127.0.0.1", 0)).getPort();
            String bootstrap = InProcessBroker.bootstrap(broker);
            Process prometheus = startPrometheus(metricsPort);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                String api = "http://127.0.0.1:" + webPort;
                waitUntil(() -> ready(api), () -> "Prometheus ready (log: " + dir.resolve("prometheus.log") + ")");
                admin.createTopics(List.of(new NewTopic("load", 1, (short) 1))).all().get();
                // one error response, so the dashboard's error panel has a series too
                assertThrows(Exception.class, () -> admin.createTopics(List.of(new NewTopic("load", 1, (short) 1))).all().get());
                // the group starts at offset 0, so its lag grows with every record produced
                admin.alterConsumerGroupOffsets("watchers", Map.of(new TopicPartition("load", 0), new OffsetAndMetadata(0)))
                        .all().get();

                AtomicBoolean producing = new AtomicBoolean(true);
                AtomicLong produced = new AtomicLong();
                Thread load = Thread.ofPlatform().name("load").start(() -> produce(bootstrap, producing, produced));
                try {
                    waitForQuery(api, "sum(rate(kiri_topic_records_in_total{topic=\"load\"}[10s]))", v -> v > 0,
                            "records-in rate above zero while producing");
                    waitForQuery(api, "max(kiri_consumer_group_lag{group=\"watchers\",topic=\"load\"})", v -> v > 0,
                            "the group's lag above zero");
                } finally {
                    producing.set(false);
                    load.join();
                }
                long total = produced.get();
                consumeAndCommit(bootstrap, total);
                waitForQuery(api, "max(kiri_consumer_group_lag{group=\"watchers\",topic=\"load\"})", v -> v == 0,
                        "the group's lag falling to zero");
                waitForQuery(api, "max(kiri_consumer_group_committed_offset{group=\"watchers\",topic=\"load\"})",
                        v -> v == total, "the committed offset at " + total);
                assertEquals(total, (long) query(api, "kiri_partition_log_end_offset{topic=\"load\",partition=\"0\"}"));
                dashboardQueriesAreValidAndFindSeries(api);
            } finally {
                prometheus.destroy();
                if (!prometheus.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) prometheus.destroyForcibly();
            }
        }
    }

    private int webPort;

    /**
     * Every query of the Grafana dashboard (ops/grafana/kiri.json), with its variables filled in, is valid PromQL
     * that finds series of this broker: a renamed metric would leave a panel empty.
     */
    private static void dashboardQueriesAreValidAndFindSeries(String api) throws Exception {
        String json = Files.readString(Path.of("../../ops/grafana/kiri.json"));
        Matcher m = Pattern.compile("\"expr\": \"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        int checked = 0;
        while (m.find()) {
            String expr = m.group(1).replace("\\\"", "\"").replace("\\\\", "\\")
                    .replace("$__rate_interval", "1m").replace("$instance", ".*").replace("$topic", ".*");
            String url = api + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8);
            String[] last = {""};
            // a rate needs two scrapes after the first request of its kind: wait for them
            waitUntil(() -> {
                Http.Reply reply = Http.get(url);
                assertEquals(200, reply.status(), expr + ": " + reply.body());
                last[0] = reply.body();
                return reply.body().contains("\"metric\"");
            }, () -> "a series for the dashboard's " + expr + " (last answer " + last[0] + ")");
            checked++;
        }
        assertTrue(checked >= 15, "dashboard queries found: " + checked);
    }

    private Process startPrometheus(int metricsPort) throws IOException {
        webPort = freePort();
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: kiri
                    static_configs:
                      - targets: ['127.0.0.1:%d']
                """.formatted(metricsPort));
        return new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + webPort)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void produce(String bootstrap, AtomicBoolean producing, AtomicLong produced) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            while (producing.get()) {
                for (int i = 0; i < 100; i++) producer.send(new ProducerRecord<>("load", "k", "value-" + i));
                producer.flush();
                produced.addAndGet(100);
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void consumeAndCommit(String bootstrap, long total) {
        try (var consumer = new KafkaConsumer<String, String>(GroupTestBroker.stringConsumer(bootstrap, "watchers"))) {
            consumer.subscribe(List.of("load"));
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            long read = 0;
            while (read < total && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofMillis(200)).count();
                consumer.commitSync();
            }
            assertEquals(total, read, "records consumed");
        }
    }

    private static boolean ready(String api) {
        try {
            return Http.get(api + "/-/ready").status() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    /** Polls a PromQL query until its single value satisfies {@code wanted}. */
    private static void waitForQuery(String api, String promql, DoublePredicate wanted, String what) throws Exception {
        double[] last = {Double.NaN};
        waitUntil(() -> {
            last[0] = query(api, promql);
            return !Double.isNaN(last[0]) && wanted.test(last[0]);
        }, () -> what + " (query " + promql + ", last value " + last[0] + "; targets: " + targets(api) + ")");
    }

    /** Prometheus' view of the scrape target (its health and last error), for failure messages. */
    private static String targets(String api) {
        try {
            return Http.get(api + "/api/v1/targets").body();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The query's value (an instant vector of one series), or NaN while it has none. */
    static double query(String api, String promql) throws IOException {
        Http.Reply reply = Http.get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        assertEquals(200, reply.status(), reply.body());
        Matcher m = Pattern.compile("\"value\":\\[[^,]+,\"([^\"]+)\"\\]").matcher(reply.body());
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    interface Check {
        boolean done() throws Exception;
    }

    private static void waitUntil(Check check, java.util.function.Supplier<String> what) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!check.done()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what.get());
            Thread.sleep(250);
        }
    }
}
