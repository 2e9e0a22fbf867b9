package kiri.coordinator;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import kiri.coordinator.Assignors.TopicMeta;
import kiri.coordinator.stored.ConsumerGroupValue;

/**
 * The coordinator's encoding of a consumer group (KIP-848) in {@link kiri.storage.api.GroupState#data()}: epochs,
 * assignor, subscribed topics' metadata, members with their assignments and targets, as a {@link ConsumerGroupValue}
 * framed by {@link StoredGroupData}. State written before the generated record (first byte {@code 'C'}) is still read.
 * Stateless; the caller holds the group's monitor.
 */
final class ConsumerGroupCodec {
    private ConsumerGroupCodec() {}

    /** The hand-written format before {@link ConsumerGroupValue}; read only. */
    private static final byte LEGACY_FORMAT = 'C';

    static byte[] encode(ConsumerGroup g) {
        List<ConsumerGroupValue.SubscribedTopic> topics = new ArrayList<>(g.subscriptionMetadata.size());
        g.subscriptionMetadata.forEach((name, meta) ->
                topics.add(new ConsumerGroupValue.SubscribedTopic().setName(name).setTopicId(meta.id()).setPartitions(meta.partitions())));
        List<ConsumerGroupValue.ConsumerMemberValue> members = new ArrayList<>(g.members.size());
        for (ConsumerMember m : g.members.values()) {
            members.add(new ConsumerGroupValue.ConsumerMemberValue().setMemberId(m.memberId).setInstanceId(m.instanceId)
                    .setRackId(m.rackId).setClientId(m.clientId).setClientHost(m.clientHost).setRebalanceTimeoutMs(m.rebalanceTimeoutMs)
                    .setSubscribedTopicNames(new ArrayList<>(m.subscribedTopicNames)).setSubscribedTopicRegex(m.subscribedTopicRegex)
                    .setServerAssignor(m.serverAssignor).setMemberEpoch(m.memberEpoch).setPreviousMemberEpoch(m.previousMemberEpoch)
                    .setState(m.state.name()).setAssigned(partitions(m.assigned)).setPendingRevocation(partitions(m.pendingRevocation))
                    .setTarget(partitions(g.target.getOrDefault(m.memberId, Assignment.EMPTY))));
        }
        return StoredGroupData.encode(new ConsumerGroupValue().setGroupEpoch(g.groupEpoch).setAssignmentEpoch(g.assignmentEpoch)
                .setAssignor(g.assignor).setSubscribedTopics(topics).setMembers(members));
    }

    /**
     * A stored consumer group (members without timers: the caller schedules them); null if {@code data} is not one or
     * is damaged (the group starts afresh).
     *
     * @throws NewerGroupStateException if a newer Kiri wrote it
     */
    static ConsumerGroup decode(String groupId, byte[] data) {
        if (StoredGroupData.isGenerated(data)) {
            return StoredGroupData.decode(groupId, data, "ConsumerGroupValue", ConsumerGroupValue.HIGHEST_SUPPORTED_VERSION,
                    (r, v) -> group(ConsumerGroupValue.read(r, v)));
        }
        if (data == null || data.length < 1 || data[0] != LEGACY_FORMAT) return null;
        return legacy(data);
    }

    private static ConsumerGroup group(ConsumerGroupValue v) {
        ConsumerGroup g = new ConsumerGroup();
        g.groupEpoch = v.groupEpoch();
        g.assignmentEpoch = v.assignmentEpoch();
        if (Assignors.NAMES.contains(v.assignor())) g.assignor = v.assignor();
        Map<String, TopicMeta> subscribed = new TreeMap<>();
        for (ConsumerGroupValue.SubscribedTopic t : v.subscribedTopics()) subscribed.put(t.name(), new TopicMeta(t.topicId(), t.partitions()));
        g.subscriptionMetadata = subscribed;
        for (ConsumerGroupValue.ConsumerMemberValue mv : v.members()) {
            ConsumerMember m = new ConsumerMember(mv.memberId());
            m.instanceId = mv.instanceId();
            m.rackId = mv.rackId();
            m.clientId = mv.clientId();
            m.clientHost = mv.clientHost();
            m.rebalanceTimeoutMs = mv.rebalanceTimeoutMs();
            m.subscribedTopicNames = List.copyOf(mv.subscribedTopicNames());
            m.subscribedTopicRegex = mv.subscribedTopicRegex();
            m.serverAssignor = mv.serverAssignor();
            m.memberEpoch = mv.memberEpoch();
            m.previousMemberEpoch = mv.previousMemberEpoch();
            m.state = ConsumerMember.State.valueOf(mv.state());
            m.assigned = assignment(mv.assigned());
            m.pendingRevocation = assignment(mv.pendingRevocation());
            Assignment target = assignment(mv.target());
            g.members.put(m.memberId, m);
            if (!target.isEmpty()) g.target.put(m.memberId, target);
        }
        return g;
    }

    private static List<ConsumerGroupValue.TopicPartitions> partitions(Assignment a) {
        List<ConsumerGroupValue.TopicPartitions> out = new ArrayList<>(a.topics().size());
        for (UUID t : a.topics()) {
            int[] ps = a.partitions(t).stream().mapToInt(Integer::intValue).toArray();
            out.add(new ConsumerGroupValue.TopicPartitions().setTopicId(t).setPartitions(ps));
        }
        return out;
    }

    private static Assignment assignment(List<ConsumerGroupValue.TopicPartitions> stored) {
        Map<UUID, List<Integer>> out = new HashMap<>();
        for (ConsumerGroupValue.TopicPartitions t : stored) {
            List<Integer> ps = new ArrayList<>(t.partitions().length);
            for (int p : t.partitions()) ps.add(p);
            out.put(t.topicId(), ps);
        }
        return Assignment.of(out);
    }

    // ---- the hand-written format ('C'), read only

    private static ConsumerGroup legacy(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            in.readByte();
            ConsumerGroup g = new ConsumerGroup();
            g.groupEpoch = in.readInt();
            g.assignmentEpoch = in.readInt();
            String a = in.readUTF();
            if (Assignors.NAMES.contains(a)) g.assignor = a;
            Map<String, TopicMeta> subscribed = new TreeMap<>();
            for (int i = in.readInt(); i > 0; i--) subscribed.put(in.readUTF(), new TopicMeta(readUuid(in), in.readInt()));
            g.subscriptionMetadata = subscribed;
            for (int i = in.readInt(); i > 0; i--) {
                ConsumerMember m = new ConsumerMember(in.readUTF());
                m.instanceId = readNullable(in);
                m.rackId = readNullable(in);
                m.clientId = in.readUTF();
                m.clientHost = in.readUTF();
                m.rebalanceTimeoutMs = in.readInt();
                List<String> names = new ArrayList<>();
                for (int k = in.readInt(); k > 0; k--) names.add(in.readUTF());
                m.subscribedTopicNames = List.copyOf(names);
                m.subscribedTopicRegex = readNullable(in);
                m.serverAssignor = readNullable(in);
                m.memberEpoch = in.readInt();
                m.previousMemberEpoch = in.readInt();
                m.state = ConsumerMember.State.values()[in.readByte()];
                m.assigned = readAssignment(in);
                m.pendingRevocation = readAssignment(in);
                Assignment t = readAssignment(in);
                g.members.put(m.memberId, m);
                if (!t.isEmpty()) g.target.put(m.memberId, t);
            }
            return g;
        } catch (IOException | RuntimeException e) {
            return null; // not readable: the group starts afresh
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static UUID readUuid(DataInputStream in) throws IOException {
        return new UUID(in.readLong(), in.readLong());
    }

    private static Assignment readAssignment(DataInputStream in) throws IOException {
        Map<UUID, List<Integer>> out = new HashMap<>();
        for (int i = in.readInt(); i > 0; i--) {
            UUID t = readUuid(in);
            List<Integer> ps = new ArrayList<>();
            for (int k = in.readInt(); k > 0; k--) ps.add(in.readInt());
            out.put(t, ps);
        }
        return Assignment.of(out);
    }
}
