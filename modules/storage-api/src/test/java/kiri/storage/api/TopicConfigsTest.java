package kiri.storage.api;

import static kiri.testsupport.Assert.assertCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import kiri.protocol.ErrorCode;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

class TopicConfigsTest {

    @Test
    void defaultsAreKafkas() {
        Map<String, String> d = TopicConfigs.defaults();
        assertEquals("delete", d.get("cleanup.policy"));
        assertEquals("604800000", d.get("retention.ms"));
        assertEquals("-1", d.get("retention.bytes"));
        assertEquals("1073741824", d.get("segment.bytes"));
        assertEquals("1048588", d.get("max.message.bytes"));
        assertEquals("1", d.get("min.insync.replicas"));
        assertEquals("producer", d.get("compression.type"));
        assertEquals("CreateTime", d.get("message.timestamp.type"));
        assertEquals("3600000", d.get("message.timestamp.after.max.ms"));
        assertEquals(Long.toString(Long.MAX_VALUE), d.get("flush.messages"));
    }

    @Test
    void namesAreExactlyKafka41TopicConfigsPlusThrottles() throws Exception {
        // Every *_CONFIG constant of kafka-clients' TopicConfig, plus the two replication throttles Kafka
        // defines in QuotaConfig: nothing missing, nothing invented.
        java.util.Set<String> kafka = new java.util.TreeSet<>();
        for (var f : TopicConfig.class.getFields()) {
            if (f.getName().endsWith("_CONFIG")) kafka.add((String) f.get(null));
        }
        kafka.add("leader.replication.throttled.replicas");
        kafka.add("follower.replication.throttled.replicas");
        assertEquals(kafka, new java.util.TreeSet<>(TopicConfigs.names()));
    }

    @Test
    void describeListsEveryConfigWithItsSource() {
        List<ConfigEntry> rows = TopicConfigs.describe(Map.of("retention.ms", "1000"));
        assertEquals(TopicConfigs.names().size(), rows.size());
        Map<String, ConfigEntry> byName = rows.stream().collect(Collectors.toMap(ConfigEntry::name, r -> r));
        assertEquals(new ConfigEntry("retention.ms", "1000", ConfigEntry.Source.DYNAMIC_TOPIC_CONFIG, ConfigEntry.Type.LONG),
                byName.get("retention.ms"));
        assertEquals(new ConfigEntry("cleanup.policy", "delete", ConfigEntry.Source.DEFAULT_CONFIG, ConfigEntry.Type.LIST),
                byName.get("cleanup.policy"));
        assertEquals(5, ConfigEntry.Source.DEFAULT_CONFIG.id());
        assertEquals("cleanup.policy", rows.getFirst().name(), "sorted by name");
    }

    @Test
    void validationRejectsWhatKafkaRejects() {
        StorageException e = assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("retention.msx", "1")));
        assertEquals("Unknown topic config name: retention.msx", e.getMessage());
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("retention.ms", "soon")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("retention.ms", "-2")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("segment.bytes", "1000")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("cleanup.policy", "compact,shred")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("compression.type", "brotli")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("preallocate", "yes")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("min.cleanable.dirty.ratio", "1.5")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("compression.gzip.level", "0")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("max.message.bytes", "3000000000")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("leader.replication.throttled.replicas", "0:x")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("message.format.version", "3.0")));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(Map.of("remote.storage.enable", "true")));
        assertCode(ErrorCode.INVALID_CONFIG,
                () -> TopicConfigs.validate(Map.of("min.compaction.lag.ms", "10", "max.compaction.lag.ms", "5")));
        java.util.HashMap<String, String> nullValue = new java.util.HashMap<>();
        nullValue.put("retention.ms", null);
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.validate(nullValue));
    }

    @Test
    void validationAcceptsAndTrims() {
        Map<String, String> ok = TopicConfigs.validate(Map.of("retention.ms", " -1 ", "cleanup.policy", "compact, delete",
                "preallocate", "TRUE", "compression.gzip.level", "-1", "leader.replication.throttled.replicas", "0:1,1:2",
                "follower.replication.throttled.replicas", "*"));
        assertEquals("-1", ok.get("retention.ms"));
        assertEquals(List.of("compact", "delete"), TopicConfigs.listValue(ok, "cleanup.policy"));
        assertTrue(TopicConfigs.booleanValue(ok, "preallocate"));
        assertEquals(1048588, TopicConfigs.intValue(ok, "max.message.bytes"));
    }

    @Test
    void incrementalOpsFollowKafka() {
        Map<String, String> current = Map.of("retention.ms", "1000");
        Map<String, String> next = TopicConfigs.apply(current, List.of(
                ConfigOp.delete("retention.ms"),
                new ConfigOp("cleanup.policy", ConfigOp.Type.APPEND, "compact,delete"),
                ConfigOp.set("segment.ms", "60000")));
        assertEquals(Map.of("cleanup.policy", "delete,compact", "segment.ms", "60000"), next,
                "APPEND starts from the default and skips values already present");
        Map<String, String> subtracted = TopicConfigs.apply(next, List.of(new ConfigOp("cleanup.policy", ConfigOp.Type.SUBTRACT, "delete")));
        assertEquals("compact", subtracted.get("cleanup.policy"));

        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.apply(current, List.of(new ConfigOp("retention.ms", ConfigOp.Type.APPEND, "1"))));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.apply(current, List.of(ConfigOp.set("nope", "1"))));
        assertCode(ErrorCode.INVALID_CONFIG, () -> TopicConfigs.apply(current, List.of(ConfigOp.set("retention.ms", "x"))));
        assertCode(ErrorCode.INVALID_REQUEST, () -> TopicConfigs.apply(current, List.of(ConfigOp.set("retention.ms", "1"), ConfigOp.delete("retention.ms"))));
        assertCode(ErrorCode.INVALID_REQUEST, () -> TopicConfigs.apply(current, List.of(ConfigOp.set("retention.ms", null))));
        assertEquals(ConfigOp.Type.SUBTRACT, ConfigOp.Type.fromCode((byte) 3));
    }
}
