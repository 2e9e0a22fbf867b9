package kiri.storage.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * A topic as stored: its id, partitions (in partition order, index = partition number), replication
 * factor and config overrides (only the overrides: {@link TopicConfigs#describe} adds the defaults).
 * Immutable; engines hand out the same instance until the topic changes.
 */
public record TopicInfo(String name, UUID id, List<PartitionInfo> partitions, short replicationFactor,
                        Map<String, String> configs) {
    public TopicInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(id, "id");
        partitions = List.copyOf(partitions);
        configs = Map.copyOf(configs);
    }

    public int partitionCount() {
        return partitions.size();
    }

    /** The effective value of a topic config: the override if set, else Kafka's default. */
    public String config(String name) {
        return TopicConfigs.value(configs, name);
    }
}
