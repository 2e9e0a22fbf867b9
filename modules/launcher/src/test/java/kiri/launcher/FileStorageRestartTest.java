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

    /**
     * Transactions on the file engine: the markers are written by the coordinator's thread while the event loop writes
     * the data batches of the same partitions. A read_committed consumer reads the committed and plain records, in
     * offset order, never the aborted ones, with the last stable offset at the end once no transaction is open; the
     * same after a restart.
     */
    @Test
    void committedAndAbortedTransactionsReadBackAcrossARestart() throws Exception {
        String storage = "file:" + dir.resolve("txn");
        String topic = "txn";
        List<TopicPartition> tps = KeyedRecords.partitions(topic, 2);
        List<String> expected = new java.util.ArrayList<>();
        Broker first = InProcessBroker.start(storage);
        try {
            String bootstrap = InProcessBroker.bootstrap(first);
            KeyedRecords.createTopic(bootstrap, topic, 2);
            try (var committing = transactional(bootstrap, "tx-commit"); var aborting = transactional(bootstrap, "tx-abort");
                    var plain = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(producerConfig(bootstrap))) {
                committing.initTransactions();
                aborting.initTransactions();
                for (int round = 0; round < 5; round++) {
                    committing.beginTransaction();
                    aborting.beginTransaction();
                    for (int i = 0; i < 40; i++) {
                        int p = i % 2;
                        String v = "c" + round + "-" + i;
                        committing.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, p, v, v));
                        aborting.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, p, "a" + round + "-" + i, "x"));
                        String q = "p" + round + "-" + i;
                        plain.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, p, q, q)).get();
                        expected.add(q);
                        expected.add(v);
                    }
                    aborting.abortTransaction();
                    committing.commitTransaction();
                }
            }
            assertEquals(java.util.Set.copyOf(expected), java.util.Set.copyOf(readCommitted(bootstrap, tps, expected.size())));
        } finally {
            first.close();
        }
        Broker second = InProcessBroker.start(storage);
        try {
            String bootstrap = InProcessBroker.bootstrap(second);
            List<String> again = readCommitted(bootstrap, tps, expected.size());
            assertEquals(expected.size(), again.size());
            assertEquals(java.util.Set.copyOf(expected), java.util.Set.copyOf(again), "the same records after a restart");
        } finally {
            second.close();
        }
    }

    private static Map<String, Object> producerConfig(String bootstrap) {
        return Map.of("bootstrap.servers", bootstrap, "acks", "all",
                "key.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName(),
                "value.serializer", org.apache.kafka.common.serialization.StringSerializer.class.getName());
    }

    private static org.apache.kafka.clients.producer.KafkaProducer<String, String> transactional(String bootstrap, String id) {
        Map<String, Object> config = new HashMap<>(producerConfig(bootstrap));
        config.put("transactional.id", id);
        return new org.apache.kafka.clients.producer.KafkaProducer<>(config);
    }

    /** Every record a read_committed consumer sees from the start, checking that offsets only grow per partition and no aborted record appears. */
    private static List<String> readCommitted(String bootstrap, List<TopicPartition> tps, int count) {
        Map<String, Object> config = Map.of("bootstrap.servers", bootstrap, "isolation.level", "read_committed",
                "auto.offset.reset", "earliest", "enable.auto.commit", "false",
                "key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName(),
                "value.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName());
        List<String> seen = new java.util.ArrayList<>();
        Map<Integer, Long> last = new HashMap<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(config)) {
            consumer.assign(tps);
            long giveUp = System.currentTimeMillis() + KeyedRecords.GIVE_UP_MS;
            while (seen.size() < count && System.currentTimeMillis() < giveUp) {
                for (var r : consumer.poll(java.time.Duration.ofMillis(200))) {
                    assertTrue(r.key().charAt(0) != 'a', () -> "an aborted record was read: " + r.key());
                    assertTrue(r.offset() > last.getOrDefault(r.partition(), -1L), "offsets grow");
                    last.put(r.partition(), r.offset());
                    seen.add(r.key());
                }
            }
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            for (TopicPartition tp : tps) {
                assertEquals(ends.get(tp), consumer.position(tp), "read up to the last stable offset, which is the end: nothing is open");
            }
        }
        return seen;
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
