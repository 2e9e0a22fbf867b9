package kiri.storage.log;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.kit.GroupTable;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.SecurityState;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionState;
import kiri.storage.kit.TransactionTable;

/** Binary encodings of the engine's small metadata files (topics, groups, transactions, counters, security). */
final class MetaCodec {
    private MetaCodec() {}

    /** 2: the file ends with a CRC32C of everything before it; 1 (still read): no checksum. */
    private static final int VERSION = 2;
    private static final int UNCHECKED_VERSION = 1;

    /** A stored topic: what {@link kiri.storage.api.TopicInfo} needs, minus the derived partition metadata. */
    record StoredTopic(String name, UUID id, int partitions, short replicationFactor, Map<String, String> configs) {}

    interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    static byte[] encode(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(VERSION);
            w.write(out);
            out.flush();
            out.writeInt(CorruptMetadataException.crc(bytes.toByteArray(), bytes.size()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** @throws CorruptMetadataException naming the byte where decoding failed, or a checksum mismatch */
    static <T> T decode(byte[] content, Reader<T> r) {
        int end = content.length;
        boolean checked = content.length >= 8 && readInt(content) == VERSION;
        if (checked) end -= 4;
        ByteArrayInputStream bytes = new ByteArrayInputStream(content, 0, end);
        try (DataInputStream in = new DataInputStream(bytes)) {
            int v = in.readInt();
            if (v != VERSION && v != UNCHECKED_VERSION) throw CorruptMetadataException.unknownVersion(v, UNCHECKED_VERSION, VERSION);
            T value = r.read(in);
            if (in.available() > 0) throw new IOException(in.available() + " unexpected bytes after the end");
            if (checked && CorruptMetadataException.crc(content, end) != readInt(content, end)) {
                throw new CorruptMetadataException(end, "checksum mismatch");
            }
            return value;
        } catch (IOException | RuntimeException e) { // EOF, bad UTF-8, an unknown enum name, a negative size
            if (e instanceof CorruptMetadataException c) throw c;
            throw new CorruptMetadataException(end - bytes.available(), e.toString());
        }
    }

    private static int readInt(byte[] b) {
        return readInt(b, 0);
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    /** A count or length read from a file: never more than the bytes left (a flipped bit must not allocate gigabytes). */
    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) throw new IOException("a count of " + n + " with " + in.available() + " bytes left");
        return n;
    }

    /** The legacy {@code topics.meta}: every topic in one file (read to migrate it, see {@link TopicStore}). */
    static byte[] topics(List<StoredTopic> topics) {
        return encode(out -> {
            out.writeInt(topics.size());
            for (StoredTopic t : topics) writeTopic(out, t);
        });
    }

    static List<StoredTopic> topics(byte[] content) {
        return decode(content, in -> {
            int n = count(in);
            List<StoredTopic> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) out.add(readTopic(in));
            return out;
        });
    }

    /** One topic's file ({@link TopicStore}). */
    static byte[] topic(StoredTopic t) {
        return encode(out -> writeTopic(out, t));
    }

    static StoredTopic topic(byte[] content) {
        return decode(content, MetaCodec::readTopic);
    }

    private static void writeTopic(DataOutputStream out, StoredTopic t) throws IOException {
        out.writeUTF(t.name());
        out.writeLong(t.id().getMostSignificantBits());
        out.writeLong(t.id().getLeastSignificantBits());
        out.writeInt(t.partitions());
        out.writeShort(t.replicationFactor());
        writeStringMap(out, t.configs());
    }

    private static StoredTopic readTopic(DataInputStream in) throws IOException {
        return new StoredTopic(in.readUTF(), new UUID(in.readLong(), in.readLong()), in.readInt(), in.readShort(), readStringMap(in));
    }

    static byte[] longValue(long v) {
        return encode(out -> out.writeLong(v));
    }

    static long longValue(byte[] content) {
        return decode(content, DataInputStream::readLong);
    }

    static byte[] string(String s) {
        return encode(out -> out.writeUTF(s));
    }

    static String string(byte[] content) {
        return decode(content, in -> in.readUTF());
    }

    /** SCRAM credentials and ACLs, in {@link SecurityState}'s own encoding. */
    static byte[] security(SecurityState state) {
        byte[] encoded = state.encode();
        return encode(out -> {
            out.writeInt(encoded.length);
            out.write(encoded);
        });
    }

    /** A malformed {@link SecurityState} inside a well-formed file counts as corrupt too. */
    static SecurityState security(byte[] content) {
        return decode(content, in -> {
            byte[] encoded = new byte[count(in)];
            in.readFully(encoded);
            return SecurityState.decode(encoded);
        });
    }

    static byte[] group(GroupTable.Snapshot g) {
        return encode(out -> {
            out.writeUTF(g.groupId());
            GroupState s = g.state();
            out.writeBoolean(s != null);
            if (s != null) {
                out.writeUTF(s.type());
                out.writeUTF(s.protocolType());
                out.writeUTF(s.state());
                out.writeInt(s.data().length);
                out.write(s.data());
                out.writeLong(s.version());
            }
            out.writeInt(g.offsets().size());
            for (Map.Entry<TopicPartition, CommittedOffset> e : g.offsets().entrySet()) {
                writeTp(out, e.getKey());
                CommittedOffset c = e.getValue();
                out.writeLong(c.offset());
                out.writeInt(c.leaderEpoch());
                writeNullable(out, c.metadata());
                out.writeLong(c.commitTimestampMs());
                out.writeLong(c.expireAtMs());
            }
        });
    }

    static GroupTable.Snapshot group(byte[] content) {
        return decode(content, in -> {
            String id = in.readUTF();
            GroupState state = null;
            if (in.readBoolean()) {
                String type = in.readUTF();
                String protocolType = in.readUTF();
                String st = in.readUTF();
                byte[] data = new byte[count(in)];
                in.readFully(data);
                state = new GroupState(id, type, protocolType, st, data, in.readLong());
            }
            int n = count(in);
            Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
            for (int i = 0; i < n; i++) {
                TopicPartition tp = readTp(in);
                offsets.put(tp, new CommittedOffset(in.readLong(), in.readInt(), readNullable(in), in.readLong(), in.readLong()));
            }
            return new GroupTable.Snapshot(id, state, offsets);
        });
    }

    static byte[] txn(TransactionTable.Snapshot t) {
        return encode(out -> {
            out.writeUTF(t.transactionalId());
            out.writeLong(t.producer().producerId());
            out.writeShort(t.producer().epoch());
            out.writeLong(t.previous().producerId());
            out.writeShort(t.previous().epoch());
            out.writeInt(t.timeoutMs());
            out.writeUTF(t.state().name());
            out.writeLong(t.startMs());
            out.writeInt(t.partitions().size());
            for (TopicPartition tp : t.partitions()) writeTp(out, tp);
            out.writeInt(t.pendingOffsets().size());
            for (Map.Entry<String, Map<TopicPartition, OffsetCommit>> g : t.pendingOffsets().entrySet()) {
                out.writeUTF(g.getKey());
                out.writeInt(g.getValue().size());
                for (OffsetCommit c : g.getValue().values()) {
                    writeTp(out, c.partition());
                    out.writeLong(c.offset());
                    out.writeInt(c.leaderEpoch());
                    writeNullable(out, c.metadata());
                    out.writeLong(c.expireAtMs());
                }
            }
        });
    }

    static TransactionTable.Snapshot txn(byte[] content) {
        return decode(content, in -> {
            String id = in.readUTF();
            ProducerIdAndEpoch producer = new ProducerIdAndEpoch(in.readLong(), in.readShort());
            ProducerIdAndEpoch previous = new ProducerIdAndEpoch(in.readLong(), in.readShort());
            int timeoutMs = in.readInt();
            TransactionState state = TransactionState.valueOf(in.readUTF());
            long startMs = in.readLong();
            int n = count(in);
            List<TopicPartition> partitions = new ArrayList<>(n);
            for (int i = 0; i < n; i++) partitions.add(readTp(in));
            int groups = count(in);
            Map<String, Map<TopicPartition, OffsetCommit>> pending = new LinkedHashMap<>();
            for (int i = 0; i < groups; i++) {
                String g = in.readUTF();
                int m = count(in);
                Map<TopicPartition, OffsetCommit> offsets = new LinkedHashMap<>();
                for (int j = 0; j < m; j++) {
                    TopicPartition tp = readTp(in);
                    offsets.put(tp, new OffsetCommit(tp, in.readLong(), in.readInt(), readNullable(in), in.readLong()));
                }
                pending.put(g, offsets);
            }
            return new TransactionTable.Snapshot(id, producer, previous, timeoutMs, state, startMs, partitions, pending);
        });
    }

    private static void writeTp(DataOutputStream out, TopicPartition tp) throws IOException {
        out.writeUTF(tp.topic());
        out.writeInt(tp.partition());
    }

    private static TopicPartition readTp(DataInputStream in) throws IOException {
        return new TopicPartition(in.readUTF(), in.readInt());
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) out.writeUTF(s);
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeStringMap(DataOutputStream out, Map<String, String> m) throws IOException {
        out.writeInt(m.size());
        for (Map.Entry<String, String> e : m.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeUTF(e.getValue());
        }
    }

    private static Map<String, String> readStringMap(DataInputStream in) throws IOException {
        int n = count(in);
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) m.put(in.readUTF(), in.readUTF());
        return m;
    }
}
