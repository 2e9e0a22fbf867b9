package kiri.storage.log;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.TopicPartition;
import kiri.storage.kit.GroupTable;

/**
 * The hand-written encoder of metadata format 2 as Kiri had it before the generated records (kept for tests only, to
 * write files the way an older Kiri left them; {@link LegacyMetaFormat} reads them).
 */
final class LegacyMetaWriter {
    private LegacyMetaWriter() {}

    interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    static byte[] encode(Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(LegacyMetaFormat.CHECKED);
            body.write(out);
            out.flush();
            out.writeInt(CorruptMetadataException.crc(bytes.toByteArray(), bytes.size()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The legacy {@code topics.meta}. */
    static byte[] topics(List<MetaCodec.StoredTopic> topics) {
        return encode(out -> {
            out.writeInt(topics.size());
            for (MetaCodec.StoredTopic t : topics) {
                out.writeUTF(t.name());
                out.writeLong(t.id().getMostSignificantBits());
                out.writeLong(t.id().getLeastSignificantBits());
                out.writeInt(t.partitions());
                out.writeShort(t.replicationFactor());
                out.writeInt(t.configs().size());
                for (Map.Entry<String, String> e : t.configs().entrySet()) {
                    out.writeUTF(e.getKey());
                    out.writeUTF(e.getValue());
                }
            }
        });
    }

    /** A group's file, offsets only (no coordinator state). */
    static byte[] offsetsOnlyGroup(GroupTable.Snapshot g) {
        return encode(out -> {
            out.writeUTF(g.groupId());
            out.writeBoolean(false);
            out.writeInt(g.offsets().size());
            for (Map.Entry<TopicPartition, CommittedOffset> e : g.offsets().entrySet()) {
                out.writeUTF(e.getKey().topic());
                out.writeInt(e.getKey().partition());
                CommittedOffset c = e.getValue();
                out.writeLong(c.offset());
                out.writeInt(c.leaderEpoch());
                out.writeBoolean(c.metadata() != null);
                if (c.metadata() != null) out.writeUTF(c.metadata());
                out.writeLong(c.commitTimestampMs());
                out.writeLong(c.expireAtMs());
            }
        });
    }
}
