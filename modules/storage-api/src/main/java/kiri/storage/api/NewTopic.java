package kiri.storage.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A CreateTopics entry. {@code partitions} and {@code replicationFactor} may be {@link #DEFAULT} (-1)
 * as in Kafka; {@code configs} are overrides as sent (values may be null: validation rejects them
 * with INVALID_CONFIG, as Kafka does). Manual replica assignments are the router's to flatten into
 * a count and a factor.
 */
public record NewTopic(String name, int partitions, short replicationFactor, Map<String, String> configs) {
    /** "Use the broker default" for {@code partitions} and {@code replicationFactor}. */
    public static final int DEFAULT = -1;

    public NewTopic {
        Objects.requireNonNull(name, "name");
        // LinkedHashMap rather than Map.copyOf: keeps request order and tolerates null values.
        configs = configs == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(configs));
    }

    public NewTopic(String name, int partitions) {
        this(name, partitions, (short) DEFAULT, Map.of());
    }
}
