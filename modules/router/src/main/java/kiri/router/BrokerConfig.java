package kiri.router;

import java.util.Map;
import java.util.Objects;

/**
 * What the broker's handlers need to know about this broker.
 *
 * @param nodeId this broker's node id
 * @param clusterId the cluster id reported to clients
 * @param advertisedHost the host clients are told to connect to
 * @param advertisedPort the port clients are told to connect to
 * @param autoCreateTopics whether Metadata requests that allow it create unknown topics
 * @param defaultPartitions partitions of auto-created topics and of CreateTopics with -1
 * @param properties further settings the broker started with, under Kafka's broker config names (listeners,
 *     security, request limits), which DescribeConfigs reports as they are; a name also derived from the fields
 *     above ({@code advertised.listeners}) takes this value. Never secrets
 */
public record BrokerConfig(int nodeId, String clusterId, String advertisedHost, int advertisedPort,
        boolean autoCreateTopics, int defaultPartitions, Map<String, String> properties) {
    public BrokerConfig {
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(advertisedHost, "advertisedHost");
        if (defaultPartitions < 1) {
            throw new IllegalArgumentException("default partitions must be >= 1: " + defaultPartitions);
        }
        properties = Map.copyOf(properties);
    }

    /** Without further properties. */
    public BrokerConfig(int nodeId, String clusterId, String advertisedHost, int advertisedPort,
            boolean autoCreateTopics, int defaultPartitions) {
        this(nodeId, clusterId, advertisedHost, advertisedPort, autoCreateTopics, defaultPartitions, Map.of());
    }
}
