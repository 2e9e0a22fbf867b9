package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kafka-clients end to end on the durable {@code file:} engine: 200,000 keyed records over 6 partitions come
 * back identical, and again identical from a new broker on the same directory, which then continues the offsets.
 */
class FileStorageRestartTest {
    @TempDir
    Path dir;

    @Test
    void recordsSurviveACleanRestartAndOffsetsContinue() throws Exception {
        String storage = "file:" + dir.resolve("data");
        String topic = "durable";
        int n = 200_000;
        int more = 10_000;
        List<TopicPartition> tps = KeyedRecords.partitions(topic, 6);
        RecordMetadata[] all = new RecordMetadata[n + more];

        Broker first = InProcessBroker.start(storage);
        try {
            String bootstrap = InProcessBroker.bootstrap(first);
            KeyedRecords.createTopic(bootstrap, topic, 6);
            CompletableFuture<List<ConsumerRecord<String, byte[]>>> consumed =
                    CompletableFuture.supplyAsync(() -> KeyedRecords.consume(bootstrap, tps, n));
            System.arraycopy(KeyedRecords.produce(bootstrap, topic, 0, n, null), 0, all, 0, n);
            RecordMetadata[] landed = Arrays.copyOf(all, n);
            Map<Integer, Long> ends = KeyedRecords.check(
                    consumed.get(KeyedRecords.GIVE_UP_MS + 30_000, TimeUnit.MILLISECONDS), landed);
            assertEquals(6, ends.size(), "the keys spread over all 6 partitions");
            assertEquals(ends, endOffsets(bootstrap, tps));
        } finally {
            first.close();
        }

        Broker second = InProcessBroker.start(storage);
        try {
            String bootstrap = InProcessBroker.bootstrap(second);
            RecordMetadata[] landed = Arrays.copyOf(all, n);
            Map<Integer, Long> ends = KeyedRecords.check(KeyedRecords.consume(bootstrap, tps, n), landed);
            assertEquals(ends, endOffsets(bootstrap, tps), "the reopened log ends where the first broker's did");

            RecordMetadata[] appended = KeyedRecords.produce(bootstrap, topic, n, more, null);
            for (RecordMetadata m : appended) {
                assertTrue(m.offset() >= ends.get(m.partition()), "appends continue after the old end");
            }
            System.arraycopy(appended, 0, all, n, more);
            Map<Integer, Long> after = KeyedRecords.check(KeyedRecords.consume(bootstrap, tps, n + more), all);
            assertEquals(after, endOffsets(bootstrap, tps));
        } finally {
            second.close();
        }
    }

    private static Map<Integer, Long> endOffsets(String bootstrap, List<TopicPartition> tps) throws Exception {
        Map<Integer, Long> out = new HashMap<>();
        try (Admin admin = KeyedRecords.admin(bootstrap)) {
            for (TopicPartition tp : tps) {
                out.put(tp.partition(), admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset());
            }
        }
        return out;
    }
}
