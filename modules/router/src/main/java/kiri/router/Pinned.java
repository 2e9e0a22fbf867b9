package kiri.router;

import java.util.List;
import java.util.Objects;
import kiri.protocol.ApiMessage;
import kiri.protocol.RawTaggedField;
import kiri.protocol.Records;
import kiri.protocol.WireWriter;

/**
 * A response whose {@link Records} fields reference storage that must stay pinned until the response
 * has been written: the {@link Router} copies memory regions into the frame (off-heap to off-heap) and
 * leaves {@link Records.FileRegion}s out of it for the transport to send with {@code transferTo}.
 * Nothing goes through a heap copy.
 *
 * <p>Ownership: {@code release} unpins what the records reference (e.g. closes storage fetch results);
 * the router runs it exactly once, after the response has been written or discarded, or when encoding
 * fails. A handler whose stage fails must release itself.
 *
 * @param body the real response; encoding delegates to it
 * @param fileBytes bytes of all file regions in the body's records: what the encoded frame buffer leaves out
 * @param release unpins the records; must not block
 */
public record Pinned(ApiMessage body, long fileBytes, Runnable release) implements ApiMessage {

    public Pinned {
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(release, "release");
        if (fileBytes < 0) {
            throw new IllegalArgumentException("negative file bytes: " + fileBytes);
        }
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
