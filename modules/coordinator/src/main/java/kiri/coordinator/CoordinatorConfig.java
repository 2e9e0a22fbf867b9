package kiri.coordinator;

/**
 * The coordinator's settings, with Kafka's broker defaults.
 *
 * @param minSessionTimeoutMs        group.min.session.timeout.ms: shorter session timeouts are refused (INVALID_SESSION_TIMEOUT)
 * @param maxSessionTimeoutMs        group.max.session.timeout.ms
 * @param initialRebalanceDelayMs    group.initial.rebalance.delay.ms: how long a new (empty) group waits for more members before its first generation
 * @param offsetsRetentionMs         offsets.retention.minutes in ms: default expiry of committed offsets
 * @param offsetMetadataMaxBytes     offset.metadata.max.bytes: longer commit metadata is refused (OFFSET_METADATA_TOO_LARGE)
 * @param consumerHeartbeatIntervalMs group.consumer.heartbeat.interval.ms: how often consumer group (KIP-848) members heartbeat
 * @param consumerSessionTimeoutMs  group.consumer.session.timeout.ms: a consumer group member silent this long is removed
 */
public record CoordinatorConfig(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs,
                                long offsetsRetentionMs, int offsetMetadataMaxBytes, int consumerHeartbeatIntervalMs,
                                int consumerSessionTimeoutMs) {
    public CoordinatorConfig {
        if (minSessionTimeoutMs < 0 || maxSessionTimeoutMs < minSessionTimeoutMs || initialRebalanceDelayMs < 0
                || offsetsRetentionMs <= 0 || offsetMetadataMaxBytes < 0 || consumerHeartbeatIntervalMs <= 0
                || consumerSessionTimeoutMs <= consumerHeartbeatIntervalMs) {
            throw new IllegalArgumentException("invalid coordinator config " + this);
        }
    }

    public static CoordinatorConfig defaults() {
        return new CoordinatorConfig(6_000, 1_800_000, 3_000, 7L * 24 * 3600 * 1000, 4096, 5_000, 45_000);
    }

    public CoordinatorConfig withMinSessionTimeoutMs(int ms) {
        return new CoordinatorConfig(ms, maxSessionTimeoutMs, initialRebalanceDelayMs, offsetsRetentionMs, offsetMetadataMaxBytes,
                consumerHeartbeatIntervalMs, consumerSessionTimeoutMs);
    }

    public CoordinatorConfig withInitialRebalanceDelayMs(int ms) {
        return new CoordinatorConfig(minSessionTimeoutMs, maxSessionTimeoutMs, ms, offsetsRetentionMs, offsetMetadataMaxBytes,
                consumerHeartbeatIntervalMs, consumerSessionTimeoutMs);
    }

    /** group.consumer.heartbeat.interval.ms and group.consumer.session.timeout.ms. */
    public CoordinatorConfig withConsumerTimeouts(int heartbeatIntervalMs, int sessionTimeoutMs) {
        return new CoordinatorConfig(minSessionTimeoutMs, maxSessionTimeoutMs, initialRebalanceDelayMs, offsetsRetentionMs,
                offsetMetadataMaxBytes, heartbeatIntervalMs, sessionTimeoutMs);
    }
}
