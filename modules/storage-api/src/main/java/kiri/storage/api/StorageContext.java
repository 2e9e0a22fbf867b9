package kiri.storage.api;

import java.time.InstantSource;
import java.util.Objects;

/**
 * What the broker tells an engine when opening it.
 *
 * @param nodeId         this broker's node id ({@code --node-id})
 * @param clusterId      the configured cluster id, or null to let the engine choose: a durable engine
 *                       reuses the one it stored (and refuses to open with a different configured one,
 *                       INCONSISTENT_CLUSTER_ID), a fresh one generates {@link KafkaUuid#random()}
 * @param advertisedHost the host clients should connect to (registered with {@link Storage#registerBroker})
 * @param advertisedPort the advertised port; 0 until the listener is bound, after which the broker
 *                       registers again with the real port
 * @param clock          the engine's time source (commit timestamps, transaction timeouts, LogAppendTime)
 */
public record StorageContext(int nodeId, String clusterId, String advertisedHost, int advertisedPort, InstantSource clock) {
    public StorageContext {
        if (nodeId < 0) throw new IllegalArgumentException("node id must be >= 0: " + nodeId);
        Objects.requireNonNull(advertisedHost, "advertisedHost");
        if (advertisedPort < 0 || advertisedPort > 65535) throw new IllegalArgumentException("port out of range: " + advertisedPort);
        Objects.requireNonNull(clock, "clock");
    }

    public StorageContext(int nodeId, String clusterId, String advertisedHost, int advertisedPort) {
        this(nodeId, clusterId, advertisedHost, advertisedPort, InstantSource.system());
    }

    /** This broker as {@link Storage#registerBroker} records it. */
    public BrokerInfo broker() {
        return new BrokerInfo(nodeId, advertisedHost, advertisedPort, null);
    }
}
