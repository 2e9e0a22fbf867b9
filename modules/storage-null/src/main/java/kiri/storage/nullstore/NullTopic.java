package kiri.storage.nullstore;

import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;

/**
 * An immutable snapshot of a topic: what produce needs in one volatile read of the topic map.
 * Altering configs or adding partitions publishes a new snapshot holding the same partition objects.
 */
record NullTopic(TopicInfo info, NullPartition[] partitions, int maxMessageBytes, boolean logAppendTime) {

    static NullTopic of(TopicInfo info, NullPartition[] partitions) {
        return new NullTopic(info, partitions, TopicConfigs.intValue(info.configs(), TopicConfigs.MAX_MESSAGE_BYTES),
                TopicConfigs.isLogAppendTime(info.configs()));
    }
}
