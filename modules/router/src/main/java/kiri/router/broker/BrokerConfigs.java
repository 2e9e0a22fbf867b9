package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiri.router.BrokerConfig;
import kiri.storage.api.ConfigEntry;
import kiri.storage.api.ConfigEntry.Source;
import kiri.storage.api.ConfigEntry.Type;
import kiri.storage.api.TopicConfigs;

/**
 * A broker's effective settings under Kafka's broker config names, for DescribeConfigs of the BROKER resource
 * ({@code kafka-configs --entity-type brokers --describe --all}). Kiri knows what it was started with, not whether a
 * flag was given: a value equal to Kafka's default is reported as DEFAULT_CONFIG, any other as STATIC_BROKER_CONFIG.
 * The topic defaults come from {@link TopicConfigs} under their {@code log.*} broker names, as Kafka's synonyms name them.
 */
final class BrokerConfigs {
    private BrokerConfigs() {
    }

    /** The broker name of a topic config whose broker-wide default Kiri applies, with its type. */
    private record TopicDefault(String brokerName, String topicName, Type type) {
    }

    private static final List<TopicDefault> TOPIC_DEFAULTS = List.of(
            new TopicDefault("compression.type", TopicConfigs.COMPRESSION_TYPE, Type.STRING),
            new TopicDefault("log.cleanup.policy", TopicConfigs.CLEANUP_POLICY, Type.LIST),
            new TopicDefault("log.message.timestamp.type", TopicConfigs.MESSAGE_TIMESTAMP_TYPE, Type.STRING),
            new TopicDefault("log.retention.bytes", TopicConfigs.RETENTION_BYTES, Type.LONG),
            new TopicDefault("log.retention.ms", TopicConfigs.RETENTION_MS, Type.LONG),
            new TopicDefault("log.roll.ms", TopicConfigs.SEGMENT_MS, Type.LONG),
            new TopicDefault("log.segment.bytes", TopicConfigs.SEGMENT_BYTES, Type.INT),
            new TopicDefault("message.max.bytes", TopicConfigs.MAX_MESSAGE_BYTES, Type.INT),
            new TopicDefault("min.insync.replicas", TopicConfigs.MIN_INSYNC_REPLICAS, Type.INT));

    /** Kafka's defaults of the names {@link BrokerConfig#properties} may hold (none: always as configured). */
    private static final Map<String, String> KAFKA_DEFAULTS = Map.of(
            "socket.request.max.bytes", "104857600",
            "queued.max.request.bytes", "-1",
            "sasl.enabled.mechanisms", "GSSAPI",
            "connections.max.reauth.ms", "0",
            "allow.everyone.if.no.acl.found", "false",
            "authorizer.class.name", "",
            "super.users", "");

    private static final Map<String, Type> TYPES = Map.of(
            "listeners", Type.LIST,
            "socket.request.max.bytes", Type.INT,
            "queued.max.request.bytes", Type.LONG,
            "sasl.enabled.mechanisms", Type.LIST,
            "connections.max.reauth.ms", Type.LONG,
            "allow.everyone.if.no.acl.found", Type.BOOLEAN,
            "super.users", Type.STRING,
            "listener.security.protocol.map", Type.STRING,
            "authorizer.class.name", Type.CLASS);

    /** Every setting, by name. */
    static List<ConfigEntry> describe(BrokerConfig config) {
        List<ConfigEntry> rows = new ArrayList<>();
        rows.add(new ConfigEntry("advertised.listeners",
                config.properties().getOrDefault("advertised.listeners", "PLAINTEXT://" + hostPort(config)),
                Source.STATIC_BROKER_CONFIG, Type.LIST));
        rows.add(entry("auto.create.topics.enable", Boolean.toString(config.autoCreateTopics()), "true", Type.BOOLEAN));
        rows.add(entry("broker.id", Integer.toString(config.nodeId()), "-1", Type.INT));
        rows.add(entry("default.replication.factor", "1", "1", Type.INT));
        rows.add(new ConfigEntry("node.id", Integer.toString(config.nodeId()), Source.STATIC_BROKER_CONFIG, Type.INT));
        rows.add(entry("num.partitions", Integer.toString(config.defaultPartitions()), "1", Type.INT));
        for (TopicDefault d : TOPIC_DEFAULTS) {
            rows.add(new ConfigEntry(d.brokerName(), TopicConfigs.defaultValue(d.topicName()), Source.DEFAULT_CONFIG, d.type()));
        }
        config.properties().forEach((name, value) -> {
            if (!name.equals("advertised.listeners")) {
                rows.add(entry(name, value, KAFKA_DEFAULTS.get(name), TYPES.getOrDefault(name, Type.STRING)));
            }
        });
        rows.sort((a, b) -> a.name().compareTo(b.name()));
        return rows;
    }

    private static ConfigEntry entry(String name, String value, String kafkaDefault, Type type) {
        return new ConfigEntry(name, value, value.equals(kafkaDefault) ? Source.DEFAULT_CONFIG : Source.STATIC_BROKER_CONFIG, type);
    }

    private static String hostPort(BrokerConfig config) {
        String host = config.advertisedHost();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + config.advertisedPort();
    }
}
