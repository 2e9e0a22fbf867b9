package kiri.storage.api;

import static kiri.testsupport.Assert.assertCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.UUID;
import kiri.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

class TopicsTest {

    @Test
    void namesFollowKafkasRules() {
        Topics.validateName("orders.v1_eu-west");
        Topics.validateName("a".repeat(249));
        assertCode(ErrorCode.INVALID_TOPIC_EXCEPTION, () -> Topics.validateName(""));
        assertCode(ErrorCode.INVALID_TOPIC_EXCEPTION, () -> Topics.validateName("."));
        assertCode(ErrorCode.INVALID_TOPIC_EXCEPTION, () -> Topics.validateName(".."));
        assertCode(ErrorCode.INVALID_TOPIC_EXCEPTION, () -> Topics.validateName("a".repeat(250)));
        assertCode(ErrorCode.INVALID_TOPIC_EXCEPTION, () -> Topics.validateName("a/b"));
        assertCode(ErrorCode.INVALID_TOPIC_EXCEPTION, () -> Topics.validateName("héllo"));
        assertEquals(Topics.collisionKey("a.b"), Topics.collisionKey("a_b"));
    }

    @Test
    void validateResolvesDefaultsAndChecksCounts() {
        NewTopic t = Topics.validate(new NewTopic("t", -1, (short) -1, Map.of("retention.ms", " 5 ")), 1);
        assertEquals(new NewTopic("t", 1, (short) 1, Map.of("retention.ms", "5")), t);
        assertCode(ErrorCode.INVALID_PARTITIONS, () -> Topics.validate(new NewTopic("t", 0), 1));
        assertCode(ErrorCode.INVALID_PARTITIONS, () -> Topics.validate(new NewTopic("t", Topics.MAX_PARTITIONS + 1), 1));
        assertCode(ErrorCode.INVALID_REPLICATION_FACTOR, () -> Topics.validate(new NewTopic("t", 1, (short) 0, Map.of()), 1));
        StorageException e = assertCode(ErrorCode.INVALID_REPLICATION_FACTOR,
                () -> Topics.validate(new NewTopic("t", 1, (short) 3, Map.of()), 1));
        assertTrue(e.getMessage().contains("only 1 broker(s)"), e.getMessage());
        assertCode(ErrorCode.INVALID_CONFIG, () -> Topics.validate(new NewTopic("t", 1, (short) 1, Map.of("x", "y")), 1));
        assertCode(ErrorCode.INVALID_PARTITIONS, () -> Topics.validatePartitionIncrease("t", 3, 3));
        assertCode(ErrorCode.INVALID_PARTITIONS, () -> Topics.validatePartitionIncrease("t", 3, 2));
        Topics.validatePartitionIncrease("t", 3, 4);
    }

    @Test
    void kafkaUuidsRoundTripAndAvoidReservedValues() {
        UUID id = KafkaUuid.random();
        assertNotEquals(KafkaUuid.ZERO, id);
        assertEquals(22, KafkaUuid.toString(id).length());
        assertEquals(id, KafkaUuid.parse(KafkaUuid.toString(id)));
        // Same printed form as Kafka's own Uuid
        org.apache.kafka.common.Uuid kafka = new org.apache.kafka.common.Uuid(id.getMostSignificantBits(), id.getLeastSignificantBits());
        assertEquals(kafka.toString(), KafkaUuid.toString(id));
    }
}
