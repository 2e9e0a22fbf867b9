package kiri.router;

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
 */
public record BrokerConfig(int nodeId, String clusterId, String advertisedHost, int advertisedPort,
        boolean autoCreateTopics, int defaultPartitions) {
    public BrokerConfig {
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(advertisedHost, "advertisedHost");
        if (defaultPartitions < 1) {
            throw new IllegalArgumentException("default partitions must be >= 1: " + defaultPartitions);
        }
    }
}
