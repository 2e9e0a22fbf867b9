package kiri.storage.nullstore;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import kiri.protocol.ErrorCode;
import kiri.storage.api.ConfigEntry;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import kiri.testsupport.KafkaBatches;

class NullTopicsTest {
    private final Storage storage = new NullStorage(new StorageContext(1, "c", "localhost", 9092));

    @AfterEach
    void close() {
        storage.close();
    }

    @Test
    void createDescribeAndList() {
        TopicInfo created = await(storage.createTopic(new NewTopic("orders", 3, (short) -1, Map.of("retention.ms", "1000")), false));
        assertNotEquals(KafkaUuid.ZERO, created.id());
        assertEquals(3, created.partitionCount());
        assertEquals(1, created.replicationFactor());
        assertEquals(PartitionInfo.singleNode(2, 1), created.partitions().get(2));
        assertEquals(Map.of("retention.ms", "1000"), created.configs());
        assertEquals("1000", created.config("retention.ms"));
        assertEquals("delete", created.config("cleanup.policy"));

        await(storage.createTopic(new NewTopic("audit", -1), false));
        assertEquals(List.of("audit", "orders"), await(storage.listTopics()).stream().map(TopicInfo::name).toList());
        assertEquals(List.of(created), await(storage.describeTopics(List.of(TopicRef.of(created.id()), TopicRef.of("missing")))));
        assertEquals(List.of(created), await(storage.describeTopics(List.of(TopicRef.of("orders")))));
    }

    @Test
    void createErrorsAreKafkas() {
        await(storage.createTopic(new NewTopic("a.b", 1), false));
        assertFails(ErrorCode.TOPIC_ALREADY_EXISTS, storage.createTopic(new NewTopic("a.b", 1), false));
        assertFails(ErrorCode.INVALID_TOPIC_EXCEPTION, storage.createTopic(new NewTopic("a_b", 1), false));
        assertFails(ErrorCode.INVALID_TOPIC_EXCEPTION, storage.createTopic(new NewTopic("bad name", 1), false));
        assertFails(ErrorCode.INVALID_PARTITIONS, storage.createTopic(new NewTopic("t", 0), false));
        assertFails(ErrorCode.INVALID_REPLICATION_FACTOR, storage.createTopic(new NewTopic("t", 1, (short) 2, Map.of()), false));
        assertFails(ErrorCode.INVALID_CONFIG, storage.createTopic(new NewTopic("t", 1, (short) 1, Map.of("retention.mss", "1")), false));
        assertFails(ErrorCode.INVALID_CONFIG, storage.createTopic(new NewTopic("t", 1, (short) 1, Map.of("segment.bytes", "12")), false));
        assertEquals(1, await(storage.listTopics()).size(), "failed creates leave nothing behind");
    }

    @Test
    void validateOnlyCreatesNothing() {
        TopicInfo info = await(storage.createTopic(new NewTopic("dry", 4), true));
        assertEquals(4, info.partitionCount());
        assertEquals(List.of(), await(storage.listTopics()));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.offsets(new TopicPartition("dry", 0)));
    }

    @Test
    void deleteByNameOrIdAndRecreate() {
        TopicInfo a = await(storage.createTopic(new NewTopic("a", 1), false));
        TopicInfo b = await(storage.createTopic(new NewTopic("b", 1), false));
        assertEquals(a, await(storage.deleteTopic(TopicRef.of("a"))));
        assertEquals(b, await(storage.deleteTopic(TopicRef.of(b.id()))));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.deleteTopic(TopicRef.of("a")));
        assertFails(ErrorCode.UNKNOWN_TOPIC_ID, storage.deleteTopic(TopicRef.of(b.id())));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, new TopicPartition("a", 0), KafkaBatches.plain(1)));
        TopicInfo again = await(storage.createTopic(new NewTopic("a", 1), false));
        assertNotEquals(a.id(), again.id());
        await(storage.createTopic(new NewTopic("a_", 1), false));
        await(storage.deleteTopic(TopicRef.of("a_")));
        await(storage.createTopic(new NewTopic("a.", 1), false)); // collision key freed by the delete
    }

    @Test
    void createPartitionsKeepsExistingOffsets() {
        await(storage.createTopic(new NewTopic("t", 2), false));
        TopicPartition p0 = new TopicPartition("t", 0);
        await(storage.produce(null, p0, KafkaBatches.plain(5)));
        assertFails(ErrorCode.INVALID_PARTITIONS, storage.createPartitions("t", 2, false));
        assertFails(ErrorCode.INVALID_PARTITIONS, storage.createPartitions("t", 1, false));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.createPartitions("nope", 3, false));
        assertEquals(4, await(storage.createPartitions("t", 4, true)).partitionCount());
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.offsets(new TopicPartition("t", 2)));
        TopicInfo grown = await(storage.createPartitions("t", 4, false));
        assertEquals(List.of(0, 1, 2, 3), grown.partitions().stream().map(PartitionInfo::partition).toList());
        assertEquals(5L, await(storage.offsets(p0)).highWatermark());
        assertEquals(0L, await(storage.offsets(new TopicPartition("t", 3))).highWatermark());
        assertEquals(grown, await(storage.describeTopics(List.of(TopicRef.of("t")))).getFirst());
    }

    @Test
    void alterConfigsIncrementally() {
        await(storage.createTopic(new NewTopic("t", 1, (short) 1, Map.of("retention.ms", "1000")), false));
        TopicInfo altered = await(storage.alterTopicConfigs("t", List.of(
                ConfigOp.delete("retention.ms"),
                new ConfigOp("cleanup.policy", ConfigOp.Type.APPEND, "compact"),
                ConfigOp.set("max.message.bytes", "100")), false));
        assertEquals(Map.of("cleanup.policy", "delete,compact", "max.message.bytes", "100"), altered.configs());
        assertEquals(altered, await(storage.describeTopics(List.of(TopicRef.of("t")))).getFirst());
        ConfigEntry retention = TopicConfigs.describe(altered.configs()).stream()
                .filter(e -> e.name().equals("retention.ms")).findFirst().orElseThrow();
        assertTrue(retention.isDefault());
        assertEquals("604800000", retention.value());

        TopicInfo dry = await(storage.alterTopicConfigs("t", List.of(ConfigOp.set("retention.ms", "5")), true));
        assertEquals("5", dry.configs().get("retention.ms"));
        assertEquals(altered.configs(), await(storage.describeTopics(List.of(TopicRef.of("t")))).getFirst().configs());
        assertFails(ErrorCode.INVALID_CONFIG, storage.alterTopicConfigs("t", List.of(ConfigOp.set("retention.ms", "x")), false));
        assertFails(ErrorCode.INVALID_CONFIG, storage.alterTopicConfigs("t", List.of(ConfigOp.set("bogus", "1")), false));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.alterTopicConfigs("x", List.of(), false));

        // the new max.message.bytes is enforced on produce at once
        assertFails(ErrorCode.MESSAGE_TOO_LARGE, storage.produce(null, new TopicPartition("t", 0), KafkaBatches.plain(10)));
    }
}
