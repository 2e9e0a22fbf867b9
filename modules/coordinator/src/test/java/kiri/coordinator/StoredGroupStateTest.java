package kiri.coordinator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import kiri.coordinator.Assignors.TopicMeta;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's stored group state ({@code GroupState.data}) is a generated, versioned record; state written by
 * the hand-written formats before it (classic: first byte 1; consumer: 'C') is still read, and state of a newer
 * version is refused with one line naming the group and the version instead of being started afresh (which would
 * overwrite it).
 */
class StoredGroupStateTest {
    static final String GROUP = "grüppe-😀";
    /** A classic group as the hand-written GroupCodec (format 1) wrote it: generation 7, two members. */
    static final String LEGACY_CLASSIC = "0100000007010008636f6e73756d657201000572616e67650100036d2d310000000200036d2d31000009636c69656e742dc3bc"
            + "000a2f3132372e302e302e31000493e00000afc800000002000572616e676500000003000102000a726f756e64726f62696e0000000000000002090900"
            + "036d2d3201000d7374617469632deda0bdedb88000026332000a2f3132372e302e302e320000ea600000271000000001000572616e6765000000010500000000";

    @Test
    void aClassicGroupOfTheHandWrittenFormatIsRead() {
        GroupCodec.Snapshot s = GroupCodec.decode(GROUP, HexFormat.of().parseHex(LEGACY_CLASSIC));
        assertNotNull(s);
        assertClassicGroup(s);
    }

    @Test
    void aClassicGroupRoundTrips() {
        Group g = new Group(GROUP);
        g.generation = 7;
        g.protocolType = "consumer";
        g.protocolName = "range";
        g.leaderId = "m-1";
        Member a = new Member("m-1", null, "client-ü", "/127.0.0.1", 300000, 45000,
                List.of(new Protocol("range", new byte[] {0, 1, 2}), new Protocol("roundrobin", new byte[0])));
        a.assignment = new byte[] {9, 9};
        Member b = new Member("m-2", "static-😀", "c2", "/127.0.0.2", 60000, 10000, List.of(new Protocol("range", new byte[] {5})));
        g.members.put(a.memberId, a);
        g.members.put(b.memberId, b);
        byte[] data = GroupCodec.encode(g);
        assertEquals(StoredGroupData.GENERATED, data[0]);
        assertClassicGroup(GroupCodec.decode(GROUP, data));
    }

    private static void assertClassicGroup(GroupCodec.Snapshot s) {
        assertEquals(7, s.generation());
        assertEquals("consumer", s.protocolType());
        assertEquals("range", s.protocolName());
        assertEquals("m-1", s.leaderId());
        assertEquals(2, s.members().size());
        Member a = s.members().get(0);
        assertEquals("client-ü", a.clientId);
        assertEquals(300000, a.rebalanceTimeoutMs);
        assertEquals(45000, a.sessionTimeoutMs);
        assertNull(a.groupInstanceId);
        assertEquals(List.of("range", "roundrobin"), a.protocols.stream().map(Protocol::name).toList());
        assertArrayEquals(new byte[] {0, 1, 2}, a.protocols.get(0).metadata());
        assertArrayEquals(new byte[] {9, 9}, a.assignment);
        Member b = s.members().get(1);
        assertEquals("static-😀", b.groupInstanceId);
        assertEquals(0, b.assignment.length);
    }

    @Test
    void aConsumerGroupRoundTripsAndItsHandWrittenFormatIsRead() throws IOException {
        ConsumerGroup g = consumerGroup();
        ConsumerGroup back = ConsumerGroupCodec.decode(GROUP, ConsumerGroupCodec.encode(g));
        assertConsumerGroup(g, back);
        assertConsumerGroup(g, ConsumerGroupCodec.decode(GROUP, legacyConsumer(g)));
    }

    @Test
    void stateOfANewerVersionIsRefusedWithOneLineNamingGroupAndVersion() {
        byte[] newer = {StoredGroupData.GENERATED, 0, 9, 1, 2, 3};
        NewerGroupStateException e = assertThrows(NewerGroupStateException.class, () -> GroupCodec.decode(GROUP, newer));
        assertEquals("group " + GROUP + ": its stored state is a ClassicGroupValue of version 9, which this Kiri does not read"
                + " (it reads versions 0 to 0; was it written by a newer Kiri?)", e.getMessage());
        assertThrows(NewerGroupStateException.class, () -> ConsumerGroupCodec.decode(GROUP, newer));
    }

    @Test
    void damagedStateStartsAfresh() {
        byte[] data = ConsumerGroupCodec.encode(consumerGroup());
        assertNull(ConsumerGroupCodec.decode(GROUP, java.util.Arrays.copyOf(data, data.length - 3)));
        assertNull(GroupCodec.decode(GROUP, new byte[] {StoredGroupData.GENERATED, 0, 0, 1}));
        assertNull(GroupCodec.decode(GROUP, new byte[0]));
    }

    private static ConsumerGroup consumerGroup() {
        UUID t1 = new UUID(1, 2);
        UUID t2 = new UUID(3, 4);
        ConsumerGroup g = new ConsumerGroup();
        g.groupEpoch = 5;
        g.assignmentEpoch = 4;
        g.assignor = Assignors.NAMES.iterator().next();
        g.subscriptionMetadata = new java.util.TreeMap<>(Map.of("a", new TopicMeta(t1, 3), "b-😀", new TopicMeta(t2, 1)));
        ConsumerMember m = new ConsumerMember("m-1");
        m.instanceId = "i-1";
        m.rackId = null;
        m.clientId = "c-ü";
        m.clientHost = "/h";
        m.rebalanceTimeoutMs = 1234;
        m.subscribedTopicNames = List.of("a", "b-😀");
        m.subscribedTopicRegex = "x.*";
        m.serverAssignor = null;
        m.memberEpoch = 5;
        m.previousMemberEpoch = 4;
        m.state = ConsumerMember.State.UNREVOKED_PARTITIONS;
        m.assigned = Assignment.of(Map.of(t1, List.of(0, 2)));
        m.pendingRevocation = Assignment.of(Map.of(t1, List.of(1)));
        ConsumerMember n = new ConsumerMember("m-2");
        g.members.put(m.memberId, m);
        g.members.put(n.memberId, n);
        g.target.put("m-1", Assignment.of(Map.of(t1, List.of(0, 2), t2, List.of(0))));
        return g;
    }

    private static void assertConsumerGroup(ConsumerGroup want, ConsumerGroup got) {
        assertNotNull(got);
        assertEquals(want.groupEpoch, got.groupEpoch);
        assertEquals(want.assignmentEpoch, got.assignmentEpoch);
        assertEquals(want.assignor, got.assignor);
        assertEquals(want.subscriptionMetadata, got.subscriptionMetadata);
        assertEquals(List.copyOf(want.members.keySet()), List.copyOf(got.members.keySet()));
        for (ConsumerMember w : want.members.values()) {
            ConsumerMember m = got.members.get(w.memberId);
            assertEquals(w.instanceId, m.instanceId);
            assertEquals(w.rackId, m.rackId);
            assertEquals(w.clientId, m.clientId);
            assertEquals(w.clientHost, m.clientHost);
            assertEquals(w.rebalanceTimeoutMs, m.rebalanceTimeoutMs);
            assertEquals(w.subscribedTopicNames, m.subscribedTopicNames);
            assertEquals(w.subscribedTopicRegex, m.subscribedTopicRegex);
            assertEquals(w.serverAssignor, m.serverAssignor);
            assertEquals(w.memberEpoch, m.memberEpoch);
            assertEquals(w.previousMemberEpoch, m.previousMemberEpoch);
            assertEquals(w.state, m.state);
            assertEquals(w.assigned.asMap(), m.assigned.asMap());
            assertEquals(w.pendingRevocation.asMap(), m.pendingRevocation.asMap());
        }
        assertEquals(want.target.keySet(), got.target.keySet());
        want.target.forEach((id, a) -> assertEquals(a.asMap(), got.target.get(id).asMap()));
        assertFalse(got.members.isEmpty());
        assertTrue(got.target.containsKey("m-1"));
    }

    /** {@code g} as the hand-written ConsumerGroup encoder (format 'C') wrote it. */
    private static byte[] legacyConsumer(ConsumerGroup g) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte('C');
        out.writeInt(g.groupEpoch);
        out.writeInt(g.assignmentEpoch);
        out.writeUTF(g.assignor);
        out.writeInt(g.subscriptionMetadata.size());
        for (var e : g.subscriptionMetadata.entrySet()) {
            out.writeUTF(e.getKey());
            uuid(out, e.getValue().id());
            out.writeInt(e.getValue().partitions());
        }
        out.writeInt(g.members.size());
        for (ConsumerMember m : g.members.values()) {
            out.writeUTF(m.memberId);
            nullable(out, m.instanceId);
            nullable(out, m.rackId);
            out.writeUTF(m.clientId);
            out.writeUTF(m.clientHost);
            out.writeInt(m.rebalanceTimeoutMs);
            out.writeInt(m.subscribedTopicNames.size());
            for (String t : m.subscribedTopicNames) out.writeUTF(t);
            nullable(out, m.subscribedTopicRegex);
            nullable(out, m.serverAssignor);
            out.writeInt(m.memberEpoch);
            out.writeInt(m.previousMemberEpoch);
            out.writeByte(m.state.ordinal());
            assignment(out, m.assigned);
            assignment(out, m.pendingRevocation);
            assignment(out, g.target.getOrDefault(m.memberId, Assignment.EMPTY));
        }
        out.flush();
        return bytes.toByteArray();
    }

    private static void nullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) out.writeUTF(s);
    }

    private static void uuid(DataOutputStream out, UUID id) throws IOException {
        out.writeLong(id.getMostSignificantBits());
        out.writeLong(id.getLeastSignificantBits());
    }

    private static void assignment(DataOutputStream out, Assignment a) throws IOException {
        out.writeInt(a.topics().size());
        for (UUID t : a.topics()) {
            uuid(out, t);
            out.writeInt(a.partitions(t).size());
            for (int p : a.partitions(t)) out.writeInt(p);
        }
    }
}
