package kiri.storage.log;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.GroupState;
import kiri.storage.api.GroupTable;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionState;
import kiri.storage.api.TransactionTable;

/** Binary encodings of the engine's small metadata files (topics, groups, transactions, counters). */
final class MetaCodec {
    private MetaCodec() {}

    private static final int VERSION = 1;

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
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static <T> T decode(byte[] content, Reader<T> r) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(content))) {
            int v = in.readInt();
            if (v != VERSION) {
                throw new IOException("metadata format version " + v + " is not supported (this Kiri reads version " + VERSION
                        + "; was the directory written by a newer Kiri?)");
            }
            return r.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes {@code file}'s content; an unreadable one fails with one line naming the file and the problem. */
    static <T> T decode(Path file, byte[] content, Function<byte[], T> parse) {
        try {
            return parse.apply(content);
        } catch (UncheckedIOException e) {
            String why = e.getCause() instanceof EOFException ? "truncated" : e.getCause().getMessage();
            throw new StorageException(ErrorCodes.KAFKA_STORAGE_ERROR, "cannot read " + file + ": " + why, e);
        }
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
            int n = in.readInt();
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
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                state = new GroupState(id, type, protocolType, st, data, in.readLong());
            }
            int n = in.readInt();
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
            int n = in.readInt();
            List<TopicPartition> partitions = new ArrayList<>(n);
            for (int i = 0; i < n; i++) partitions.add(readTp(in));
            int groups = in.readInt();
            Map<String, Map<TopicPartition, OffsetCommit>> pending = new LinkedHashMap<>();
            for (int i = 0; i < groups; i++) {
                String g = in.readUTF();
                int m = in.readInt();
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
        int n = in.readInt();
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) m.put(in.readUTF(), in.readUTF());
        return m;
    }
}
