package kiri.storage.log;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.SecurityState;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionState;
import kiri.storage.kit.GroupTable;
import kiri.storage.kit.TransactionTable;

/**
 * Reads metadata files written before the generated records (Kiri up to this change): format 1 (no checksum) and 2
 * (a closing CRC32C), whose bodies were {@link java.io.DataOutputStream} fields in a fixed order (strings in modified
 * UTF-8 with a 16-bit length, nullable strings behind a boolean). Read only: a file is written in the current format
 * the next time it changes, so old directories open and migrate as they are used. Stateless; any thread.
 */
final class LegacyMetaFormat {
    private LegacyMetaFormat() {}

    static final int UNCHECKED = 1;
    static final int CHECKED = 2;

    interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    /** @throws CorruptMetadataException naming the byte where decoding failed, or a checksum mismatch */
    static <T> T decode(byte[] content, Reader<T> r) {
        int format = content.length < 4 ? -1 : MetaCodec.readInt(content, 0);
        if (format != UNCHECKED && format != CHECKED) {
            if (format == -1) throw new CorruptMetadataException(content.length, "too short for a metadata file");
            throw CorruptMetadataException.unknownVersion(format, UNCHECKED, CHECKED);
        }
        int end = format == CHECKED ? content.length - 4 : content.length;
        if (end < 4) throw new CorruptMetadataException(content.length, "too short for format " + format);
        ByteArrayInputStream bytes = new ByteArrayInputStream(content, 4, end - 4);
        try (DataInputStream in = new DataInputStream(bytes)) {
            T value = r.read(in);
            if (in.available() > 0) throw new IOException(in.available() + " unexpected bytes after the end");
            if (format == CHECKED && CorruptMetadataException.crc(content, end) != MetaCodec.readInt(content, end)) {
                throw new CorruptMetadataException(end, "checksum mismatch");
            }
            return value;
        } catch (IOException | RuntimeException e) { // EOF, bad UTF-8, an unknown enum name, a negative size
            if (e instanceof CorruptMetadataException c) throw c;
            throw new CorruptMetadataException(end - bytes.available(), e.toString());
        }
    }

    /** A count or length read from a file: never more than the bytes left (a flipped bit must not allocate gigabytes). */
    private static int count(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) throw new IOException("a count of " + n + " with " + in.available() + " bytes left");
        return n;
    }

    /** The legacy {@code topics.meta}: every topic in one file. */
    static List<MetaCodec.StoredTopic> topics(DataInputStream in) throws IOException {
        int n = count(in);
        List<MetaCodec.StoredTopic> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(topic(in));
        return out;
    }

    static MetaCodec.StoredTopic topic(DataInputStream in) throws IOException {
        String name = in.readUTF();
        UUID id = new UUID(in.readLong(), in.readLong());
        int partitions = in.readInt();
        short replicationFactor = in.readShort();
        int n = count(in);
        Map<String, String> configs = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) configs.put(in.readUTF(), in.readUTF());
        return new MetaCodec.StoredTopic(name, id, partitions, replicationFactor, configs);
    }

    static long longValue(DataInputStream in) throws IOException {
        return in.readLong();
    }

    static String string(DataInputStream in) throws IOException {
        return in.readUTF();
    }

    static SecurityState security(DataInputStream in) throws IOException {
        byte[] encoded = new byte[count(in)];
        in.readFully(encoded);
        return SecurityState.decode(encoded);
    }

    static GroupTable.Snapshot group(DataInputStream in) throws IOException {
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
            TopicPartition tp = tp(in);
            offsets.put(tp, new CommittedOffset(in.readLong(), in.readInt(), nullable(in), in.readLong(), in.readLong()));
        }
        return new GroupTable.Snapshot(id, state, offsets);
    }

    static TransactionTable.Snapshot txn(DataInputStream in) throws IOException {
        String id = in.readUTF();
        ProducerIdAndEpoch producer = new ProducerIdAndEpoch(in.readLong(), in.readShort());
        ProducerIdAndEpoch previous = new ProducerIdAndEpoch(in.readLong(), in.readShort());
        int timeoutMs = in.readInt();
        TransactionState state = TransactionState.valueOf(in.readUTF());
        long startMs = in.readLong();
        int n = count(in);
        List<TopicPartition> partitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) partitions.add(tp(in));
        int groups = count(in);
        Map<String, Map<TopicPartition, OffsetCommit>> pending = new LinkedHashMap<>();
        for (int i = 0; i < groups; i++) {
            String g = in.readUTF();
            int m = count(in);
            Map<TopicPartition, OffsetCommit> offsets = new LinkedHashMap<>();
            for (int j = 0; j < m; j++) {
                TopicPartition tp = tp(in);
                offsets.put(tp, new OffsetCommit(tp, in.readLong(), in.readInt(), nullable(in), in.readLong()));
            }
            pending.put(g, offsets);
        }
        return new TransactionTable.Snapshot(id, producer, previous, timeoutMs, state, startMs, partitions, pending);
    }

    static List<long[]> acceptedGaps(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available() / 16) throw new IOException("a count of " + n);
        List<long[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(new long[] {in.readLong(), in.readLong()});
        return out;
    }

    static Map<String, Long> cleanShutdown(DataInputStream in) throws IOException {
        Map<String, Long> ends = new HashMap<>();
        int n = count(in);
        for (int i = 0; i < n; i++) ends.put(in.readUTF(), in.readLong());
        return ends;
    }

    private static TopicPartition tp(DataInputStream in) throws IOException {
        return new TopicPartition(in.readUTF(), in.readInt());
    }

    private static String nullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }
}
