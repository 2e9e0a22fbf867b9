package kiri.storage.api;

/**
 * One row of DescribeConfigs for a topic (see {@link TopicConfigs#describe}) or a broker. Topic configs are never
 * read-only or sensitive in Kafka, so those response fields are constants the router fills in.
 */
public record ConfigEntry(String name, String value, Source source, Type type) {

    public boolean isDefault() {
        return source == Source.DEFAULT_CONFIG;
    }

    /** Kafka's {@code DescribeConfigsResponse.ConfigSource}: where the value comes from, with wire ids. */
    public enum Source {
        DYNAMIC_TOPIC_CONFIG(1), STATIC_BROKER_CONFIG(4), DEFAULT_CONFIG(5);

        private final byte id;

        Source(int id) {
            this.id = (byte) id;
        }

        public byte id() {
            return id;
        }
    }

    /** Kafka's {@code DescribeConfigsResponse.ConfigType}, with wire ids. */
    public enum Type {
        BOOLEAN(1), STRING(2), INT(3), SHORT(4), LONG(5), DOUBLE(6), LIST(7), CLASS(8), PASSWORD(9);

        private final byte id;

        Type(int id) {
            this.id = (byte) id;
        }

        public byte id() {
            return id;
        }
    }
}
