package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real kafka-clients against the {@code file:} engine with ids longer than a file name may be: offsets committed for
 * group ids of 200 and 32767 bytes, and a transactional producer whose id has 200 bytes, all still there after a
 * restart (these once failed with error 56, or were lost on restart).
 */
class LongIdsClientTest {
    @TempDir
    Path dir;

    @Test
    void longGroupAndTransactionalIdsWorkAndSurviveARestart() throws Exception {
        String storage = "file:" + dir.resolve("data");
        TopicPartition tp = new TopicPartition("long-ids", 0);
        List<String> groups = List.of("g".repeat(200), "h".repeat(32767));
        String txnId = "t".repeat(200);
        Broker first = InProcessBroker.start(storage);
        try {
            String bootstrap = InProcessBroker.bootstrap(first);
            KeyedRecords.createTopic(bootstrap, tp.topic(), 1);
            try (KafkaProducer<String, String> producer = transactional(bootstrap, txnId)) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(tp.topic(), 0, "k", "v"));
                producer.commitTransaction();
            }
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                for (int i = 0; i < groups.size(); i++) {
                    admin.alterConsumerGroupOffsets(groups.get(i), Map.of(tp, new OffsetAndMetadata(1 + i))).all().get();
                    assertEquals(1 + i, admin.listConsumerGroupOffsets(groups.get(i)).partitionsToOffsetAndMetadata().get().get(tp).offset());
                }
            }
        } finally {
            first.close();
        }
        Broker second = InProcessBroker.start(storage);
        try {
            String bootstrap = InProcessBroker.bootstrap(second);
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                for (int i = 0; i < groups.size(); i++) {
                    OffsetAndMetadata o = admin.listConsumerGroupOffsets(groups.get(i)).partitionsToOffsetAndMetadata().get().get(tp);
                    assertEquals(1 + i, o == null ? -1 : o.offset(), "group id of " + groups.get(i).length() + " bytes after a restart");
                }
                assertEquals(List.of(txnId), admin.describeTransactions(List.of(txnId)).all().get().keySet().stream().toList(),
                        "the transactional id survived the restart");
            }
            try (KafkaProducer<String, String> producer = transactional(bootstrap, txnId)) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(tp.topic(), 0, "k2", "v2"));
                producer.commitTransaction();
            }
        } finally {
            second.close();
        }
    }

    private static KafkaProducer<String, String> transactional(String bootstrap, String id) {
        return new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap, "transactional.id", id,
                "key.serializer", StringSerializer.class.getName(), "value.serializer", StringSerializer.class.getName()));
    }
}
