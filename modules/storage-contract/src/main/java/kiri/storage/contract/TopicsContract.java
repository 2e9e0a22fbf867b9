package kiri.storage.contract;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import kiri.protocol.ErrorCode;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

/** CreateTopics, DeleteTopics, CreatePartitions, Metadata and IncrementalAlterConfigs as the SPI answers them. */
public abstract class TopicsContract extends ContractBase {

    @Test
    void createdTopicsAreListedAndDescribedByNameAndId() {
        TopicInfo b = topic("b", 3, Map.of("retention.ms", "3600000"));
        TopicInfo a = topic("a", 1);
        assertEquals(3, b.partitionCount());
        assertEquals(Map.of("retention.ms", "3600000"), b.configs(), "only the overrides are stored");
        assertNotEquals(a.id(), b.id());
        assertEquals(List.of("a", "b"), await(storage.listTopics()).stream().map(TopicInfo::name).toList(), "sorted by name");
        List<TopicInfo> described = await(storage.describeTopics(List.of(TopicRef.of(b.id()), TopicRef.of("missing"), TopicRef.of("a"))));
        assertEquals(List.of("b", "a"), described.stream().map(TopicInfo::name).toList(), "in the order asked, missing left out");
        assertEquals(b.id(), described.getFirst().id());
        assertEquals(1, described.getFirst().partitions().getFirst().replicas().size());
    }

    @Test
    void createErrorsAreKafkaCodes() {
        topic("t", 1);
        assertFails(ErrorCode.TOPIC_ALREADY_EXISTS, storage.createTopic(new NewTopic("t", 1), false));
        topic("a.b", 1);
        assertFails(ErrorCode.INVALID_TOPIC_EXCEPTION, storage.createTopic(new NewTopic("a_b", 1), false));
        assertFails(ErrorCode.INVALID_TOPIC_EXCEPTION, storage.createTopic(new NewTopic("bad/name", 1), false));
        assertFails(ErrorCode.INVALID_PARTITIONS, storage.createTopic(new NewTopic("p", 0), false));
        assertFails(ErrorCode.INVALID_REPLICATION_FACTOR, storage.createTopic(new NewTopic("r", 1, (short) 3, Map.of()), false));
        assertFails(ErrorCode.INVALID_CONFIG, storage.createTopic(new NewTopic("c", 1, (short) 1, Map.of("no.such.config", "1")), false));
        assertFails(ErrorCode.INVALID_CONFIG, storage.createTopic(new NewTopic("c", 1, (short) 1, Map.of("retention.ms", "soon")), false));
        assertEquals(List.of("a.b", "t"), await(storage.listTopics()).stream().map(TopicInfo::name).toList(), "failed creates left nothing");
    }

    @Test
    void validateOnlyCreatesNothing() {
        TopicInfo info = await(storage.createTopic(new NewTopic("v", 2), true));
        assertEquals(2, info.partitionCount());
        assertEquals(List.of(), await(storage.listTopics()));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.offsets(new TopicPartition("v", 0)));
    }

    @Test
    void deletedTopicIsGoneWithItsPartitions() {
        TopicInfo t = topic("t", 2);
        TopicPartition p0 = new TopicPartition("t", 0);
        produce(p0, KafkaBatches.plain(3));
        assertEquals("t", await(storage.deleteTopic(TopicRef.of("t"))).name());
        assertEquals(List.of(), await(storage.listTopics()));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.produce(null, p0, KafkaBatches.plain(1)));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.fetch(p0, 0, 1000, true, RU));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.deleteTopic(TopicRef.of("t")));
        assertFails(ErrorCode.UNKNOWN_TOPIC_ID, storage.deleteTopic(TopicRef.of(t.id())));
        assertFails(ErrorCode.UNKNOWN_TOPIC_ID, storage.deleteTopic(TopicRef.of(KafkaUuid.random())));

        TopicInfo again = topic("t", 1);
        assertNotEquals(t.id(), again.id(), "a re-created topic has a new id");
        assertEquals(0, offsets(p0).highWatermark(), "and starts empty");
    }

    @Test
    void createPartitionsGrowsOnlyAndKeepsData() {
        topic("t", 1);
        TopicPartition p0 = new TopicPartition("t", 0);
        TopicPartition p2 = new TopicPartition("t", 2);
        produce(p0, KafkaBatches.plain(2));
        assertEquals(3, await(storage.createPartitions("t", 3, true)).partitionCount());
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.offsets(p2));
        assertEquals(3, await(storage.createPartitions("t", 3, false)).partitionCount());
        assertEquals(0, produce(p2, KafkaBatches.plain(1)));
        assertEquals(2, offsets(p0).highWatermark(), "existing partitions keep their data");
        assertFails(ErrorCode.INVALID_PARTITIONS, storage.createPartitions("t", 2, false));
        assertFails(ErrorCode.INVALID_PARTITIONS, storage.createPartitions("t", 3, false));
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.createPartitions("missing", 3, false));
        assertEquals(3, await(storage.describeTopics(List.of(TopicRef.of("t")))).getFirst().partitionCount());
    }

    @Test
    void configsAreAlteredAtomically() {
        topic("t", 1, Map.of("retention.ms", "1000"));
        TopicInfo altered = await(storage.alterTopicConfigs("t",
                List.of(ConfigOp.delete("retention.ms"), ConfigOp.set("cleanup.policy", "compact")), false));
        assertEquals(Map.of("cleanup.policy", "compact"), altered.configs());
        assertEquals(Map.of("cleanup.policy", "compact"), describe("t").configs());

        assertEquals(Map.of("cleanup.policy", "compact", "retention.ms", "5"),
                await(storage.alterTopicConfigs("t", List.of(ConfigOp.set("retention.ms", "5")), true)).configs());
        assertEquals(Map.of("cleanup.policy", "compact"), describe("t").configs(), "validateOnly changed nothing");

        assertFails(ErrorCode.INVALID_CONFIG, storage.alterTopicConfigs("t",
                List.of(ConfigOp.set("retention.ms", "7"), ConfigOp.set("max.message.bytes", "lots")), false));
        assertFails(ErrorCode.INVALID_CONFIG, storage.alterTopicConfigs("t", List.of(ConfigOp.set("no.such.config", "1")), false));
        assertEquals(Map.of("cleanup.policy", "compact"), describe("t").configs(), "a failed alter changed nothing");
        assertFails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, storage.alterTopicConfigs("missing", List.of(ConfigOp.set("retention.ms", "1")), false));
        assertTrue(describe("t").config("retention.ms").equals("604800000"), "a deleted override falls back to Kafka's default");
    }

    protected final TopicInfo describe(String name) {
        return await(storage.describeTopics(List.of(TopicRef.of(name)))).getFirst();
    }
}
