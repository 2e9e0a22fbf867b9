package kiri.storage.api;

import java.util.Objects;
import java.util.UUID;
import kiri.protocol.ErrorCode;

/** A topic named either way Kafka requests name one: by name (older versions) or by topic id (newer). */
public sealed interface TopicRef {

    static TopicRef of(String name) {
        return new Name(name);
    }

    static TopicRef of(UUID id) {
        return new Id(id);
    }

    /** Whether {@code topic} is the topic this reference names. */
    boolean matches(TopicInfo topic);

    /** The error for "no such topic": UNKNOWN_TOPIC_OR_PARTITION by name, UNKNOWN_TOPIC_ID by id. */
    ErrorCode unknownError();

    record Name(String name) implements TopicRef {
        public Name {
            Objects.requireNonNull(name, "name");
        }

        @Override
        public boolean matches(TopicInfo topic) {
            return topic.name().equals(name);
        }

        @Override
        public ErrorCode unknownError() {
            return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    record Id(UUID id) implements TopicRef {
        public Id {
            Objects.requireNonNull(id, "id");
        }

        @Override
        public boolean matches(TopicInfo topic) {
            return topic.id().equals(id);
        }

        @Override
        public ErrorCode unknownError() {
            return ErrorCode.UNKNOWN_TOPIC_ID;
        }

        @Override
        public String toString() {
            return KafkaUuid.toString(id);
        }
    }
}
