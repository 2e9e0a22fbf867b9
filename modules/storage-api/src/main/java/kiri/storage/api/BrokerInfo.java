package kiri.storage.api;

import java.util.Objects;

/** A registered broker: what Metadata and DescribeCluster report for it. {@code rack} may be null. */
public record BrokerInfo(int nodeId, String host, int port, String rack) {
    public BrokerInfo {
        Objects.requireNonNull(host, "host");
        if (nodeId < 0) throw new IllegalArgumentException("node id must be >= 0: " + nodeId);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    }
}
