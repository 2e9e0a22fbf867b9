package kiri.protocol.record;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A record header to write with {@link RecordBatchBuilder}: a non-null key (written as UTF-8) and
 * a value that may be null. Immutable; the value segment must stay valid until the batch is built.
 */
public record Header(String key, MemorySegment value) {
    public Header {
        Objects.requireNonNull(key, "header key");
    }

    /** A header whose value is {@code value}'s bytes (wrapped, not copied), or null. */
    public static Header of(String key, byte[] value) {
        return new Header(key, value == null ? null : MemorySegment.ofArray(value));
    }
}
