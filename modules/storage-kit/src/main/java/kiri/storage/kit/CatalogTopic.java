package kiri.storage.kit;

import java.util.List;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;

/**
 * An immutable snapshot of a topic for {@link CatalogStorage}: what the produce and fetch paths need
 * in one volatile read of the topic map. Altering configs or adding partitions publishes a new
 * snapshot holding the same partition objects.
 *
 * @param <P> the engine's partition type
 */
public record CatalogTopic<P>(TopicInfo info, List<P> partitions, int maxMessageBytes, boolean logAppendTime,
                              long retentionMs, long retentionBytes) {

    public CatalogTopic {
        partitions = List.copyOf(partitions);
    }

    static <P> CatalogTopic<P> of(TopicInfo info, List<P> partitions) {
        return new CatalogTopic<>(info, partitions, TopicConfigs.intValue(info.configs(), TopicConfigs.MAX_MESSAGE_BYTES),
                TopicConfigs.isLogAppendTime(info.configs()),
                TopicConfigs.longValue(info.configs(), TopicConfigs.RETENTION_MS),
                TopicConfigs.longValue(info.configs(), TopicConfigs.RETENTION_BYTES));
    }

    /** The partition, or null if out of range. */
    public P partition(int index) {
        return index >= 0 && index < partitions.size() ? partitions.get(index) : null;
    }
}
