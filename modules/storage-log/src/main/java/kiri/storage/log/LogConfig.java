package kiri.storage.log;

import java.util.Map;
import kiri.storage.api.TopicConfigs;

/** The topic configs a partition's log reads on its paths, resolved once per config change. */
record LogConfig(int segmentBytes, long segmentMs, long retentionMs, long retentionBytes, int maxMessageBytes,
                 boolean logAppendTime) {

    static LogConfig of(Map<String, String> overrides) {
        return new LogConfig(TopicConfigs.intValue(overrides, TopicConfigs.SEGMENT_BYTES),
                TopicConfigs.longValue(overrides, TopicConfigs.SEGMENT_MS),
                TopicConfigs.longValue(overrides, TopicConfigs.RETENTION_MS),
                TopicConfigs.longValue(overrides, TopicConfigs.RETENTION_BYTES),
                TopicConfigs.intValue(overrides, TopicConfigs.MAX_MESSAGE_BYTES),
                TopicConfigs.isLogAppendTime(overrides));
    }
}
