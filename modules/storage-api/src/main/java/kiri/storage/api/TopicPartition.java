package kiri.storage.api;

import java.util.Objects;

/** A partition of a topic, by topic name (the router resolves topic ids with {@link Storage#describeTopics}). */
public record TopicPartition(String topic, int partition) {
    public TopicPartition {
        Objects.requireNonNull(topic, "topic");
    }

    /** Kafka's spelling, {@code topic-partition}. */
    @Override
    public String toString() {
        return topic + "-" + partition;
    }
}
