package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.cli.ConnectDistributed;
import org.apache.kafka.connect.runtime.Connect;
import org.apache.kafka.connect.runtime.distributed.DistributedHerder;
import org.apache.kafka.connect.util.FutureCallback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka Connect 4.1 in distributed mode (its config, offset and status topics compacted) runs unmodified against a
 * Kiri broker on {@code file:}: FileStreamSource reads a file into a topic, FileStreamSink writes the topic to
 * another file, and every line in is a line out, in order. The worker is stopped, more lines are appended, and
 * the restarted worker resumes from its committed offsets: the output is still exactly the input.
 */
class KafkaConnectTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void fileSourceToFileSinkResumesAfterAWorkerRestart() throws Exception {
        Path in = dir.resolve("in.txt");
        Path out = dir.resolve("out.txt");
        List<String> lines = new ArrayList<>();
        append(in, lines, 0, 2_000);
        try (GroupTestBroker b = GroupTestBroker.start("file:" + dir.resolve("data"), GroupTestBroker.SHORT_CLASSIC_TIMEOUTS)) {
            Connect<DistributedHerder> worker = startWorker(b.bootstrap());
            try {
                putConnector(worker, "file-source", Map.of("connector.class", "FileStreamSource", "tasks.max", "1",
                        "file", in.toString(), "topic", "lines"));
                putConnector(worker, "file-sink", Map.of("connector.class", "FileStreamSink", "tasks.max", "1",
                        "file", out.toString(), "topics", "lines"));
                waitForLines(out, lines);
            } finally {
                worker.stop();
                worker.awaitStop();
            }
            append(in, lines, 2_000, 1_000); // written while no worker runs
            worker = startWorker(b.bootstrap());
            try {
                waitForLines(out, lines);
                assertEquals(lines, Files.readAllLines(out), "every line in is one line out, in order");
            } finally {
                worker.stop();
                worker.awaitStop();
            }
        }
    }

    private Connect<DistributedHerder> startWorker(String bootstrap) {
        Map<String, String> p = new HashMap<>();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", "kiri-connect");
        p.put("config.storage.topic", "connect-configs");
        p.put("offset.storage.topic", "connect-offsets");
        p.put("status.storage.topic", "connect-status");
        p.put("config.storage.replication.factor", "1");
        p.put("offset.storage.replication.factor", "1");
        p.put("status.storage.replication.factor", "1");
        p.put("key.converter", "org.apache.kafka.connect.storage.StringConverter");
        p.put("value.converter", "org.apache.kafka.connect.storage.StringConverter");
        p.put("offset.flush.interval.ms", "500");
        p.put("listeners", "http://127.0.0.1:0");
        p.put("session.timeout.ms", "6000");
        p.put("heartbeat.interval.ms", "500");
        return new ConnectDistributed().startConnect(p);
    }

    private static void putConnector(Connect<DistributedHerder> worker, String name, Map<String, String> config)
            throws Exception {
        Map<String, String> c = new HashMap<>(config);
        c.put("name", name);
        FutureCallback<org.apache.kafka.connect.runtime.Herder.Created<org.apache.kafka.connect.runtime.rest.entities.ConnectorInfo>> done =
                new FutureCallback<>();
        worker.herder().putConnectorConfig(name, c, false, done);
        done.get(240, TimeUnit.SECONDS);
    }

    private static void append(Path file, List<String> lines, int from, int n) throws IOException {
        List<String> more = new ArrayList<>();
        for (int i = from; i < from + n; i++) more.add("line " + i + " " + "x".repeat(i % 50));
        Files.write(file, more, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        lines.addAll(more);
    }

    private static void waitForLines(Path out, List<String> lines) throws InterruptedException {
        GroupTestBroker.waitFor(() -> count(out) >= lines.size(), lines.size() + " lines in " + out, Duration.ofSeconds(300));
    }

    private static int count(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file).size() : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
