package kiri.storage.log;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import kiri.protocol.Message;
import kiri.protocol.WireReader;
import kiri.protocol.WireWriter;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.SecurityState;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionState;
import kiri.storage.kit.GroupTable;
import kiri.storage.kit.TransactionTable;
import kiri.storage.log.stored.AcceptedGapsValue;
import kiri.storage.log.stored.CleanShutdownValue;
import kiri.storage.log.stored.GroupValue;
import kiri.storage.log.stored.Int64Value;
import kiri.storage.log.stored.SecurityValue;
import kiri.storage.log.stored.StringValue;
import kiri.storage.log.stored.TopicValue;
import kiri.storage.log.stored.TransactionValue;

/**
 * The engine's small metadata files (topics, groups, transactions, counters, security, accepted gaps, the clean
 * shutdown marker). Each file is {@code int32 format (3) | int16 record version | record | int32 CRC32C of the bytes
 * before it}; the record is a class generated from Kiri's own JSON spec in {@code src/main/kiri-specs} (as Kafka
 * describes its group-coordinator records), written at its highest version. Files of format 1 and 2, written before
 * the specs, are read by {@link LegacyMetaFormat}. Stateless; any thread.
 */
final class MetaCodec {
    private MetaCodec() {}

    /** The framing described above; 1 and 2 (still read) are the hand-written formats. */
    static final int FORMAT = 3;

    /** A stored topic: what {@link kiri.storage.api.TopicInfo} needs, minus the derived partition metadata. */
    record StoredTopic(String name, UUID id, int partitions, short replicationFactor, Map<String, String> configs) {}

    /** A generated record's {@code read}, mapped to what the caller wants. */
    interface RecordReader<T> {
        T read(WireReader r, short version);
    }

    /** One file's content: {@code record} at its highest version, framed and checksummed. */
    static byte[] encode(Message record) {
        short version = record.highestSupportedVersion();
        byte[] out = new byte[4 + 2 + record.size(version) + 4];
        WireWriter w = new WireWriter(MemorySegment.ofArray(out));
        w.writeInt32(FORMAT);
        w.writeInt16(version);
        record.write(w, version);
        w.writeInt32(CorruptMetadataException.crc(out, out.length - 4));
        return out;
    }

    /**
     * Decodes a file of any format this Kiri reads.
     *
     * @param name the record's spec name, for the error when the file holds a version newer than {@code highest}
     * @throws CorruptMetadataException naming the byte where decoding failed, a checksum mismatch, or a version this Kiri
     *         does not read
     */
    static <T> T decode(byte[] content, LegacyMetaFormat.Reader<T> legacy, String name, short highest, RecordReader<T> reader) {
        if (content.length < 4) throw new CorruptMetadataException(content.length, "too short for a metadata file");
        int format = readInt(content, 0);
        return switch (format) {
            case LegacyMetaFormat.UNCHECKED, LegacyMetaFormat.CHECKED -> LegacyMetaFormat.decode(content, legacy);
            case FORMAT -> current(content, name, highest, reader);
            default -> throw CorruptMetadataException.unknownVersion(format, LegacyMetaFormat.UNCHECKED, FORMAT);
        };
    }

    private static <T> T current(byte[] content, String name, short highest, RecordReader<T> reader) {
        int end = content.length - 4;
        if (end < 6) throw new CorruptMetadataException(content.length, "too short for format " + FORMAT);
        if (CorruptMetadataException.crc(content, end) != readInt(content, end)) throw new CorruptMetadataException(end, "checksum mismatch");
        WireReader r = new WireReader(MemorySegment.ofArray(content), 4, end - 4);
        short version = r.readInt16();
        if (version < 0 || version > highest) throw CorruptMetadataException.unknownRecordVersion(name, version, highest);
        try {
            T value = reader.read(r, version);
            if (r.remaining() > 0) throw new CorruptMetadataException(r.position(), r.remaining() + " unexpected bytes after the end");
            return value;
        } catch (CorruptMetadataException e) {
            throw e;
        } catch (RuntimeException e) { // a length past the end, bad UTF-8, an unknown enum name
            throw new CorruptMetadataException(r.position(), e.toString());
        }
    }

    static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    /** The legacy {@code topics.meta}: every topic in one file (read to migrate it, see {@link TopicStore}); never written. */
    static List<StoredTopic> topics(byte[] content) {
        return LegacyMetaFormat.decode(content, LegacyMetaFormat::topics);
    }

    /** One topic's file ({@link TopicStore}). */
    static byte[] topic(StoredTopic t) {
        List<TopicValue.TopicConfig> configs = new ArrayList<>(t.configs().size());
        for (Map.Entry<String, String> e : t.configs().entrySet()) configs.add(new TopicValue.TopicConfig().setKey(e.getKey()).setValue(e.getValue()));
        return encode(new TopicValue().setName(t.name()).setTopicId(t.id()).setPartitions(t.partitions())
                .setReplicationFactor(t.replicationFactor()).setConfigs(configs));
    }

    static StoredTopic topic(byte[] content) {
        return decode(content, LegacyMetaFormat::topic, "TopicValue", TopicValue.HIGHEST_SUPPORTED_VERSION, (r, v) -> {
            TopicValue t = TopicValue.read(r, v);
            Map<String, String> configs = new LinkedHashMap<>();
            for (TopicValue.TopicConfig c : t.configs()) configs.put(c.key(), c.value());
            return new StoredTopic(t.name(), t.topicId(), t.partitions(), t.replicationFactor(), configs);
        });
    }

    static byte[] longValue(long v) {
        return encode(new Int64Value().setValue(v));
    }

    static long longValue(byte[] content) {
        return decode(content, LegacyMetaFormat::longValue, "Int64Value", Int64Value.HIGHEST_SUPPORTED_VERSION,
                (r, v) -> Int64Value.read(r, v).value());
    }

    static byte[] string(String s) {
        return encode(new StringValue().setValue(s));
    }

    static String string(byte[] content) {
        return decode(content, LegacyMetaFormat::string, "StringValue", StringValue.HIGHEST_SUPPORTED_VERSION,
                (r, v) -> StringValue.read(r, v).value());
    }

    /** SCRAM credentials and ACLs, in {@link SecurityState}'s own encoding. */
    static byte[] security(SecurityState state) {
        return encode(new SecurityValue().setState(MemorySegment.ofArray(state.encode())));
    }

    /** A malformed {@link SecurityState} inside a well-formed file counts as corrupt too. */
    static SecurityState security(byte[] content) {
        return decode(content, LegacyMetaFormat::security, "SecurityValue", SecurityValue.HIGHEST_SUPPORTED_VERSION,
                (r, v) -> SecurityState.decode(bytes(SecurityValue.read(r, v).state())));
    }

    static byte[] group(GroupTable.Snapshot g) {
        GroupValue.StoredGroupState state = null;
        GroupState s = g.state();
        if (s != null) {
            state = new GroupValue.StoredGroupState().setType(s.type()).setProtocolType(s.protocolType()).setState(s.state())
                    .setData(MemorySegment.ofArray(s.data())).setVersion(s.version());
        }
        List<GroupValue.StoredOffset> offsets = new ArrayList<>(g.offsets().size());
        for (Map.Entry<TopicPartition, CommittedOffset> e : g.offsets().entrySet()) {
            CommittedOffset c = e.getValue();
            offsets.add(new GroupValue.StoredOffset().setTopic(e.getKey().topic()).setPartition(e.getKey().partition())
                    .setOffset(c.offset()).setLeaderEpoch(c.leaderEpoch()).setMetadata(c.metadata())
                    .setCommitTimestampMs(c.commitTimestampMs()).setExpireAtMs(c.expireAtMs()));
        }
        return encode(new GroupValue().setGroupId(g.groupId()).setState(state).setOffsets(offsets));
    }

    static GroupTable.Snapshot group(byte[] content) {
        return decode(content, LegacyMetaFormat::group, "GroupValue", GroupValue.HIGHEST_SUPPORTED_VERSION, (r, v) -> {
            GroupValue g = GroupValue.read(r, v);
            GroupValue.StoredGroupState s = g.state();
            GroupState state = s == null ? null
                    : new GroupState(g.groupId(), s.type(), s.protocolType(), s.state(), bytes(s.data()), s.version());
            Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
            for (GroupValue.StoredOffset o : g.offsets()) {
                offsets.put(new TopicPartition(o.topic(), o.partition()),
                        new CommittedOffset(o.offset(), o.leaderEpoch(), o.metadata(), o.commitTimestampMs(), o.expireAtMs()));
            }
            return new GroupTable.Snapshot(g.groupId(), state, offsets);
        });
    }

    static byte[] txn(TransactionTable.Snapshot t) {
        List<TransactionValue.TxnPartition> partitions = new ArrayList<>(t.partitions().size());
        for (TopicPartition tp : t.partitions()) partitions.add(new TransactionValue.TxnPartition().setTopic(tp.topic()).setPartition(tp.partition()));
        List<TransactionValue.PendingGroup> groups = new ArrayList<>(t.pendingOffsets().size());
        for (Map.Entry<String, Map<TopicPartition, OffsetCommit>> g : t.pendingOffsets().entrySet()) {
            List<TransactionValue.PendingOffset> offsets = new ArrayList<>(g.getValue().size());
            for (OffsetCommit c : g.getValue().values()) {
                offsets.add(new TransactionValue.PendingOffset().setTopic(c.partition().topic()).setPartition(c.partition().partition())
                        .setOffset(c.offset()).setLeaderEpoch(c.leaderEpoch()).setMetadata(c.metadata()).setExpireAtMs(c.expireAtMs()));
            }
            groups.add(new TransactionValue.PendingGroup().setGroupId(g.getKey()).setOffsets(offsets));
        }
        return encode(new TransactionValue().setTransactionalId(t.transactionalId())
                .setProducerId(t.producer().producerId()).setProducerEpoch(t.producer().epoch())
                .setPreviousProducerId(t.previous().producerId()).setPreviousProducerEpoch(t.previous().epoch())
                .setTimeoutMs(t.timeoutMs()).setState(t.state().name()).setStartMs(t.startMs())
                .setPartitions(partitions).setPendingGroups(groups));
    }

    static TransactionTable.Snapshot txn(byte[] content) {
        return decode(content, LegacyMetaFormat::txn, "TransactionValue", TransactionValue.HIGHEST_SUPPORTED_VERSION, (r, v) -> {
            TransactionValue t = TransactionValue.read(r, v);
            List<TopicPartition> partitions = new ArrayList<>(t.partitions().size());
            for (TransactionValue.TxnPartition p : t.partitions()) partitions.add(new TopicPartition(p.topic(), p.partition()));
            Map<String, Map<TopicPartition, OffsetCommit>> pending = new LinkedHashMap<>();
            for (TransactionValue.PendingGroup g : t.pendingGroups()) {
                Map<TopicPartition, OffsetCommit> offsets = new LinkedHashMap<>();
                for (TransactionValue.PendingOffset o : g.offsets()) {
                    TopicPartition tp = new TopicPartition(o.topic(), o.partition());
                    offsets.put(tp, new OffsetCommit(tp, o.offset(), o.leaderEpoch(), o.metadata(), o.expireAtMs()));
                }
                pending.put(g.groupId(), offsets);
            }
            return new TransactionTable.Snapshot(t.transactionalId(), new ProducerIdAndEpoch(t.producerId(), t.producerEpoch()),
                    new ProducerIdAndEpoch(t.previousProducerId(), t.previousProducerEpoch()), t.timeoutMs(),
                    TransactionState.valueOf(t.state()), t.startMs(), partitions, pending);
        });
    }

    /** {@link AcceptedGaps}: {@code [from, to)} ranges. */
    static byte[] acceptedGaps(List<long[]> ranges) {
        List<AcceptedGapsValue.Gap> gaps = new ArrayList<>(ranges.size());
        for (long[] range : ranges) gaps.add(new AcceptedGapsValue.Gap().setFrom(range[0]).setTo(range[1]));
        return encode(new AcceptedGapsValue().setGaps(gaps));
    }

    static List<long[]> acceptedGaps(byte[] content) {
        return decode(content, LegacyMetaFormat::acceptedGaps, "AcceptedGapsValue", AcceptedGapsValue.HIGHEST_SUPPORTED_VERSION, (r, v) -> {
            List<long[]> out = new ArrayList<>();
            for (AcceptedGapsValue.Gap g : AcceptedGapsValue.read(r, v).gaps()) out.add(new long[] {g.from(), g.to()});
            return out;
        });
    }

    /** {@link CleanShutdown}: each partition directory's end offset. */
    static byte[] cleanShutdown(Map<String, Long> ends) {
        List<CleanShutdownValue.PartitionEnd> partitions = new ArrayList<>(ends.size());
        for (Map.Entry<String, Long> e : ends.entrySet()) {
            partitions.add(new CleanShutdownValue.PartitionEnd().setDirectory(e.getKey()).setEndOffset(e.getValue()));
        }
        return encode(new CleanShutdownValue().setPartitions(partitions));
    }

    static Map<String, Long> cleanShutdown(byte[] content) {
        return decode(content, LegacyMetaFormat::cleanShutdown, "CleanShutdownValue", CleanShutdownValue.HIGHEST_SUPPORTED_VERSION, (r, v) -> {
            Map<String, Long> ends = new HashMap<>();
            for (CleanShutdownValue.PartitionEnd p : CleanShutdownValue.read(r, v).partitions()) ends.put(p.directory(), p.endOffset());
            return ends;
        });
    }

    /** A copy of a decoded bytes field (a view of the file's array) that the caller owns. */
    private static byte[] bytes(MemorySegment s) {
        return s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }
}
