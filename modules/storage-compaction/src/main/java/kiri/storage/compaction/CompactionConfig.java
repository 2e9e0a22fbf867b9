package kiri.storage.compaction;

import java.util.List;
import java.util.Map;
import kiri.storage.api.TopicConfigs;

/**
 * A topic's compaction settings, under Kafka's names: {@code cleanup.policy} (compact, or compact,delete; without
 * delete, retention by time and size does not apply),
 * {@code delete.retention.ms} (how long a tombstone, and an ended transaction's marker, outlive cleaning),
 * {@code min.cleanable.dirty.ratio}, {@code min.compaction.lag.ms} and {@code max.compaction.lag.ms}.
 */
public record CompactionConfig(boolean compact, boolean delete, long deleteRetentionMs, double minCleanableDirtyRatio,
                               long minCompactionLagMs, long maxCompactionLagMs) {
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String MIN_CLEANABLE_DIRTY_RATIO = "min.cleanable.dirty.ratio";

    public static CompactionConfig of(Map<String, String> overrides) {
        List<String> policy = TopicConfigs.listValue(overrides, TopicConfigs.CLEANUP_POLICY);
        return new CompactionConfig(policy.contains("compact"), policy.contains("delete"),
                TopicConfigs.longValue(overrides, DELETE_RETENTION_MS),
                Double.parseDouble(TopicConfigs.value(overrides, MIN_CLEANABLE_DIRTY_RATIO)),
                TopicConfigs.longValue(overrides, TopicConfigs.MIN_COMPACTION_LAG_MS),
                TopicConfigs.longValue(overrides, TopicConfigs.MAX_COMPACTION_LAG_MS));
    }

    /**
     * Whether a cleanable range is worth cleaning now: its dirty share reached {@code min.cleanable.dirty.ratio},
     * or its oldest dirty record is older than {@code max.compaction.lag.ms}.
     */
    public boolean due(long dirtyBytes, long totalBytes, long oldestDirtyTimestamp, long nowMs) {
        if (!compact || dirtyBytes <= 0) return false;
        if (oldestDirtyTimestamp >= 0 && nowMs - oldestDirtyTimestamp > maxCompactionLagMs) return true;
        return (double) dirtyBytes / Math.max(1, totalBytes) >= minCleanableDirtyRatio;
    }
}
