package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A current librdkafka (2.15, bundled by {@code @confluentinc/kafka-javascript} and compiled from
 * source by {@code scripts/setup.d/rdkafka.sh (run by ./test.sh)}) against an in-process broker: {@code src/test/rdkafka/
 * roundtrip.js} creates topics, produces with idempotent producers (snappy, lz4, gzip), aborts and
 * commits transactions, consumes read_committed in a group that commits, and commits a
 * consume-transform-produce transaction's input offsets with sendOffsets; then kafka-clients checks
 * the offsets both groups committed. Debian's kcat (librdkafka 2.0.2) is covered by KcatTest.
 */
class RdkafkaTest {
    private static final Path SCRIPTS = Path.of("src/test/rdkafka");

    @ParameterizedTest
    @ValueSource(strings = {"memory://", "file:"})
    void currentLibrdkafkaProducesConsumesInGroupsAndRunsTransactions(String storage, @TempDir Path dir) throws Exception {
        assertTrue(Files.isDirectory(SCRIPTS.resolve("node_modules/@confluentinc/kafka-javascript/build/Release")),
                "@confluentinc/kafka-javascript is needed for this test: scripts/setup.d/rdkafka.sh (run by ./test.sh) builds it");
        try (Broker broker = InProcessBroker.startForClients(storage, dir)) {
            String bootstrap = InProcessBroker.bootstrap(broker);
            String out = NodeScript.run(SCRIPTS, 300, "roundtrip.js", bootstrap);
            assertTrue(out.contains("rdkafka OK: 900 records over 17 keys"), out);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                Map<TopicPartition, OffsetAndMetadata> group = admin.listConsumerGroupOffsets("rk-group")
                        .partitionsToOffsetAndMetadata().get(60, TimeUnit.SECONDS);
                long committed = group.entrySet().stream().filter(e -> e.getKey().topic().equals("rk-topic"))
                        .mapToLong(e -> e.getValue().offset()).sum();
                assertEquals(900, committed, group.toString());
                // Offsets 0-9 aborted, 10 the abort marker, 11-20 committed, 21 the commit marker: the
                // group commits after its last record (21) or past the marker (22).
                long txnOffset = group.get(new TopicPartition("rk-txn", 0)).offset();
                assertTrue(txnOffset == 21 || txnOffset == 22, group.toString());
                assertEquals(21, admin.listConsumerGroupOffsets("rk-eos").partitionsToOffsetAndMetadata()
                        .get(60, TimeUnit.SECONDS).get(new TopicPartition("rk-txn", 0)).offset(),
                        "the offset sendOffsets committed with the transaction");
            }
        }
    }
}
