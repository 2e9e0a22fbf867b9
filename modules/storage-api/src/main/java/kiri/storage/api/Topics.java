package kiri.storage.api;

import java.util.Map;
import kiri.protocol.ErrorCode;

/**
 * Kafka's topic rules every engine applies the same way: legal names, name collisions, partition
 * counts and replication factors. Engines check existence themselves (that needs their state), in
 * Kafka's order: name, existence, collision, then {@link #validate}.
 */
public final class Topics {
    private Topics() {}

    public static final int MAX_NAME_LENGTH = 249;
    /** Kafka's {@code num.partitions} default, used when CreateTopics asks for -1. */
    public static final int DEFAULT_PARTITIONS = 1;
    /** Kafka's {@code default.replication.factor}, used when CreateTopics asks for -1. */
    public static final short DEFAULT_REPLICATION_FACTOR = 1;
    /**
     * An upper bound on partitions per topic, so that one request cannot make an engine allocate
     * without limit (Kafka relies on controller quotas instead).
     */
    public static final int MAX_PARTITIONS = 100_000;

    /** @throws StorageException INVALID_TOPIC_EXCEPTION with Kafka's message if {@code name} is not a legal topic name */
    public static void validateName(String name) {
        if (name == null || name.isEmpty()) throw invalidTopic("Topic name is illegal, it can't be empty");
        if (name.equals(".") || name.equals("..")) throw invalidTopic("Topic name cannot be \".\" or \"..\"");
        if (name.length() > MAX_NAME_LENGTH) {
            throw invalidTopic("Topic name is illegal, it can't be longer than " + MAX_NAME_LENGTH
                    + " characters, topic name: " + name);
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            if (!legal) {
                throw invalidTopic("Topic name \"" + name + "\" is illegal, it contains a character other than "
                        + "ASCII alphanumerics, '.', '_' and '-'");
            }
        }
    }

    /**
     * The key under which two topic names collide: Kafka's metrics replace '.' with '_', so it refuses
     * {@code a.b} when {@code a_b} exists (and vice versa). Engines index topics by this key too.
     */
    public static String collisionKey(String name) {
        return name.replace('.', '_');
    }

    /** The INVALID_TOPIC_EXCEPTION to throw when {@code name} collides with {@code existing}. */
    public static StorageException collision(String name, String existing) {
        return invalidTopic("Topic '" + name + "' collides with existing topic: " + existing);
    }

    /** The TOPIC_ALREADY_EXISTS error to throw for {@code name}. */
    public static StorageException alreadyExists(String name) {
        return new StorageException(ErrorCode.TOPIC_ALREADY_EXISTS, "Topic '" + name + "' already exists.");
    }

    /** The error to throw for a missing topic: UNKNOWN_TOPIC_OR_PARTITION by name, UNKNOWN_TOPIC_ID by id. */
    public static StorageException unknown(TopicRef ref) {
        return new StorageException(ref.unknownError(), "This server does not host this topic: " + ref);
    }

    /** The UNKNOWN_TOPIC_OR_PARTITION error to throw for a partition (or its topic) that does not exist. */
    public static StorageException unknown(TopicPartition tp) {
        return new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                "This server does not host this topic-partition: " + tp);
    }

    /**
     * Checks the parts of a CreateTopics entry that need no engine state and resolves the defaults:
     * the returned topic has concrete partitions and replication factor and validated, trimmed configs.
     *
     * @param brokerCount the number of registered brokers (replicas must fit on distinct brokers)
     * @throws StorageException INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR or INVALID_CONFIG
     */
    public static NewTopic validate(NewTopic topic, int brokerCount) {
        validateName(topic.name());
        int partitions = topic.partitions() == NewTopic.DEFAULT ? DEFAULT_PARTITIONS : topic.partitions();
        if (partitions <= 0) {
            throw new StorageException(ErrorCode.INVALID_PARTITIONS,
                    "Number of partitions was set to an invalid non-positive value.");
        }
        if (partitions > MAX_PARTITIONS) {
            throw new StorageException(ErrorCode.INVALID_PARTITIONS,
                    "Number of partitions " + partitions + " exceeds the limit of " + MAX_PARTITIONS + ".");
        }
        short rf = topic.replicationFactor() == NewTopic.DEFAULT ? DEFAULT_REPLICATION_FACTOR : topic.replicationFactor();
        if (rf <= 0) {
            throw new StorageException(ErrorCode.INVALID_REPLICATION_FACTOR,
                    "Replication factor must be larger than 0, or -1 to use the default value.");
        }
        if (rf > brokerCount) {
            throw new StorageException(ErrorCode.INVALID_REPLICATION_FACTOR, "Unable to replicate the partition "
                    + rf + " time(s): The target replication factor of " + rf
                    + " cannot be reached because only " + brokerCount + " broker(s) are registered.");
        }
        Map<String, String> configs = TopicConfigs.validate(topic.configs());
        return new NewTopic(topic.name(), partitions, rf, configs);
    }

    /**
     * Checks a CreatePartitions request: the count can only grow.
     *
     * @throws StorageException INVALID_PARTITIONS with Kafka's messages
     */
    public static void validatePartitionIncrease(String topic, int current, int requested) {
        if (requested == current) {
            throw new StorageException(ErrorCode.INVALID_PARTITIONS, "Topic already has " + current + " partitions.");
        }
        if (requested < current) {
            throw new StorageException(ErrorCode.INVALID_PARTITIONS, "The topic " + topic + " currently has "
                    + current + " partition(s); " + requested + " would not be an increase.");
        }
        if (requested > MAX_PARTITIONS) {
            throw new StorageException(ErrorCode.INVALID_PARTITIONS,
                    "Number of partitions " + requested + " exceeds the limit of " + MAX_PARTITIONS + ".");
        }
    }

    private static StorageException invalidTopic(String message) {
        return new StorageException(ErrorCode.INVALID_TOPIC_EXCEPTION, message);
    }
}
