package kiri.storage.api;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.UUID;

/**
 * Kafka's UUID conventions for topic ids and cluster ids: 128 bits, printed as URL-safe base64
 * without padding (22 characters), with two reserved values that are never generated.
 */
public final class KafkaUuid {
    private KafkaUuid() {}

    /** "No id" on the wire (e.g. a Metadata request naming topics by name). */
    public static final UUID ZERO = new UUID(0L, 0L);
    /** Reserved by Kafka for the KRaft metadata topic. */
    public static final UUID METADATA_TOPIC_ID = new UUID(0L, 1L);

    /** A random id that is neither reserved nor printed with a leading '-' (which CLIs would take for a flag), as Kafka's {@code Uuid.randomUuid()}. */
    public static UUID random() {
        while (true) {
            UUID id = UUID.randomUUID();
            if (!id.equals(ZERO) && !id.equals(METADATA_TOPIC_ID) && !toString(id).startsWith("-")) return id;
        }
    }

    /** Kafka's printed form, e.g. {@code "MkU3OEVBNTcwNTJENDM2Qk"}. */
    public static String toString(UUID id) {
        ByteBuffer b = ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits());
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    /** Parses Kafka's printed form. @throws IllegalArgumentException if it is not 16 bytes of URL-safe base64 */
    public static UUID parse(String text) {
        byte[] bytes = Base64.getUrlDecoder().decode(text);
        if (bytes.length != 16) throw new IllegalArgumentException("not a Kafka UUID: '" + text + "'");
        ByteBuffer b = ByteBuffer.wrap(bytes);
        return new UUID(b.getLong(), b.getLong());
    }
}
