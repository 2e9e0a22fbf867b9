package kiri.router;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

    /**
     * What placeholders slice: never read or written, only their lengths and identities matter. A
     * read-only mapping of a sparse, already unlinked temp file, so its pages are never touched and
     * cost neither memory nor disk, whatever the fetch sizes; where no such file can be made, zeroed
     * memory grown on demand instead.
     */
    private static final long MAPPED_PLACEHOLDER_BYTES = 1L << 31;
    private static final MemorySegment MAPPED = mapSparseFile();
    private static volatile MemorySegment allocated = MemorySegment.NULL;

    private static MemorySegment mapSparseFile() {
        try {
            Path file = Files.createTempFile("kiri-placeholders", ".map");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(1), MAPPED_PLACEHOLDER_BYTES - 1); // sparse: no blocks before it
                return ch.map(FileChannel.MapMode.READ_ONLY, 0, MAPPED_PLACEHOLDER_BYTES, Arena.global());
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException | UnsupportedOperationException | IllegalStateException e) {
            return null;
        }
    }

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
        if (MAPPED != null && length <= MAPPED_PLACEHOLDER_BYTES) {
            return MAPPED.asSlice(0, length);
        }
        MemorySegment base = allocated;
        if (base.byteSize() < length) {
            synchronized (Spliced.class) {
                base = allocated;
                if (base.byteSize() < length) {
                    base = Arena.ofAuto().allocate(Math.max(length, 2 * base.byteSize()));
                    allocated = base;
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
