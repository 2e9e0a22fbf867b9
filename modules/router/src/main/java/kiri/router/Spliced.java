package kiri.router;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import kiri.protocol.ApiMessage;
import kiri.protocol.RawTaggedField;
import kiri.protocol.WireWriter;
import kiri.transport.Response;

/**
 * A response body some of whose bytes/records field values stand for data that stays where it is:
 * each such value is a {@link #placeholder} of the right length, mapped to the parts it is made of.
 * The {@link Router} encodes the body with a {@link WireWriter.Splicer}: memory parts are copied
 * straight into the frame (off-heap to off-heap), file parts are left out and sent by the transport
 * with {@code transferTo} ({@link Response.Parts}). Nothing goes through a heap copy.
 *
 * <p>Ownership: {@code release} unpins what the parts reference (e.g. closes storage fetch results);
 * the router runs it exactly once, after the response has been written or discarded, or when
 * encoding fails. A handler whose stage fails must release itself.
 *
 * @param body the real response; encoding delegates to it
 * @param parts placeholder (by identity) to the parts it stands for, whose sizes add up to its length
 * @param release unpins the parts; must not block
 */
public record Spliced(ApiMessage body, Map<MemorySegment, List<Response.Part>> parts, Runnable release)
        implements ApiMessage {

    /** Placeholders up to this size slice one shared segment; bigger ones get their own. */
    private static final long SHARED_MAX = 8 << 20;

    /**
     * Never read or written: only its length and identity matter. Grown on demand up to
     * {@link #SHARED_MAX} (1 MiB covers Kafka's default max.partition.fetch.bytes); the previous one is
     * freed by the GC once no placeholder slices it.
     */
    private static volatile MemorySegment placeholders = Arena.ofAuto().allocate(64 << 10);

    public Spliced {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(release, "release");
        IdentityHashMap<MemorySegment, List<Response.Part>> copy = new IdentityHashMap<>();
        parts.forEach((placeholder, list) -> {
            long n = 0;
            for (Response.Part p : list) {
                n += p.byteSize();
            }
            if (n != placeholder.byteSize()) {
                throw new IllegalArgumentException("parts of " + n + " bytes for a " + placeholder.byteSize()
                        + "-byte placeholder");
            }
            copy.put(placeholder, List.copyOf(list));
        });
        parts = copy;
    }

    /** A new placeholder of {@code length} bytes: a distinct object, to be used as a field value once. */
    public static MemorySegment placeholder(long length) {
        if (length > SHARED_MAX) {
            return Arena.ofAuto().allocate(length); // rare (a huge partition limit): not kept around
        }
        MemorySegment base = placeholders;
        if (base.byteSize() < length) {
            synchronized (Spliced.class) {
                base = placeholders;
                if (base.byteSize() < length) {
                    base = Arena.ofAuto().allocate(Math.min(SHARED_MAX, Math.max(length, 2 * base.byteSize())));
                    placeholders = base;
                }
            }
        }
        return base.asSlice(0, length);
    }

    /** Bytes of all file parts: what the encoded frame buffer leaves out. */
    public long fileBytes() {
        long n = 0;
        for (List<Response.Part> list : parts.values()) {
            for (Response.Part p : list) {
                if (p instanceof Response.Part.File f) {
                    n += f.length();
                }
            }
        }
        return n;
    }

    @Override
    public short apiKey() {
        return body.apiKey();
    }

    @Override
    public int size(short version) {
        return body.size(version);
    }

    @Override
    public void write(WireWriter writer, short version) {
        body.write(writer, version);
    }

    @Override
    public List<RawTaggedField> unknownTaggedFields() {
        return body.unknownTaggedFields();
    }

    @Override
    public short lowestSupportedVersion() {
        return body.lowestSupportedVersion();
    }

    @Override
    public short highestSupportedVersion() {
        return body.highestSupportedVersion();
    }
}
