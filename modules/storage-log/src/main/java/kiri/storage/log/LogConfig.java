package kiri.storage.log;

import java.util.Map;
import kiri.storage.api.TopicConfigs;
import kiri.storage.compaction.CompactionConfig;

/**
 * The topic configs a partition's log reads on its paths, resolved once per config change. For a compacted topic
 * the active segment also rolls after {@code max.compaction.lag.ms}, as Kafka's does, so the cleaner may reach it.
 */
record LogConfig(int segmentBytes, long segmentMs, long retentionMs, long retentionBytes, int maxMessageBytes,
                 boolean logAppendTime, CompactionConfig compaction) {

    static LogConfig of(Map<String, String> overrides) {
        CompactionConfig compaction = CompactionConfig.of(overrides);
        long segmentMs = TopicConfigs.longValue(overrides, TopicConfigs.SEGMENT_MS);
        return new LogConfig(TopicConfigs.intValue(overrides, TopicConfigs.SEGMENT_BYTES),
                compaction.compact() ? Math.min(segmentMs, compaction.maxCompactionLagMs()) : segmentMs,
                TopicConfigs.longValue(overrides, TopicConfigs.RETENTION_MS),
                TopicConfigs.longValue(overrides, TopicConfigs.RETENTION_BYTES),
                TopicConfigs.intValue(overrides, TopicConfigs.MAX_MESSAGE_BYTES),
                TopicConfigs.isLogAppendTime(overrides), compaction);
    }
}
