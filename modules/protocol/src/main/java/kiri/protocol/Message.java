package kiri.protocol;

import java.util.List;

/**
 * A generated protocol structure: a request, response, header, or a {@code data} schema.
 *
 * <p>Encoding is size-then-write: {@link #size} computes the exact encoded size for a version, and
 * {@link #write} writes exactly that many bytes. Each generated class also has a static
 * {@code read(WireReader, short)} that decodes one instance. Instances are mutable and not
 * thread-safe; {@code records} and {@code bytes} fields of decoded instances are views of the
 * input segment and live only as long as it does.
 */
public interface Message {
    /** The exact number of bytes {@link #write} produces for {@code version}. */
    int size(short version);

    /** Writes this message at {@code version}; throws {@link ProtocolException} if it can't be expressed. */
    void write(WireWriter writer, short version);

    /** Tagged fields read from the wire that this codec doesn't know; written back on encode. */
    List<RawTaggedField> unknownTaggedFields();

    short lowestSupportedVersion();

    short highestSupportedVersion();
}
