package kiri.coordinator;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import kiri.coordinator.stored.ClassicGroupValue;

/**
 * The coordinator's encoding of a classic group in {@link kiri.storage.api.GroupState#data()}: generation,
 * protocol, leader and members with their protocols and assignment, as a {@link ClassicGroupValue} framed by
 * {@link StoredGroupData}. State written before the generated record (first byte 1) is still read. Engines never
 * read it. Stateless.
 */
final class GroupCodec {
    /** The hand-written format before {@link ClassicGroupValue}; read only. */
    private static final byte LEGACY_FORMAT = 1;

    private GroupCodec() {
    }

    record Snapshot(int generation, String protocolType, String protocolName, String leaderId, List<Member> members) {
    }

    static byte[] encode(Group g) {
        List<ClassicGroupValue.ClassicMember> members = new ArrayList<>(g.members.size());
        for (Member m : g.members.values()) {
            List<ClassicGroupValue.MemberProtocol> protocols = new ArrayList<>(m.protocols.size());
            for (Protocol p : m.protocols) {
                protocols.add(new ClassicGroupValue.MemberProtocol().setName(p.name()).setMetadata(MemorySegment.ofArray(p.metadata())));
            }
            members.add(new ClassicGroupValue.ClassicMember().setMemberId(m.memberId).setGroupInstanceId(m.groupInstanceId)
                    .setClientId(m.clientId).setClientHost(m.clientHost).setRebalanceTimeoutMs(m.rebalanceTimeoutMs)
                    .setSessionTimeoutMs(m.sessionTimeoutMs).setProtocols(protocols).setAssignment(MemorySegment.ofArray(m.assignment)));
        }
        return StoredGroupData.encode(new ClassicGroupValue().setGeneration(g.generation).setProtocolType(g.protocolType)
                .setProtocolName(g.protocolName).setLeaderId(g.leaderId).setMembers(members));
    }

    /**
     * Decodes {@code data}; null if it is empty, damaged or not a classic group (e.g. an offsets-only group).
     *
     * @throws NewerGroupStateException if a newer Kiri wrote it
     */
    static Snapshot decode(String groupId, byte[] data) {
        if (StoredGroupData.isGenerated(data)) {
            return StoredGroupData.decode(groupId, data, "ClassicGroupValue", ClassicGroupValue.HIGHEST_SUPPORTED_VERSION, (r, v) -> {
                ClassicGroupValue g = ClassicGroupValue.read(r, v);
                List<Member> members = new ArrayList<>(g.members().size());
                for (ClassicGroupValue.ClassicMember cm : g.members()) {
                    List<Protocol> protocols = new ArrayList<>(cm.protocols().size());
                    for (ClassicGroupValue.MemberProtocol p : cm.protocols()) protocols.add(new Protocol(p.name(), StoredGroupData.bytes(p.metadata())));
                    Member m = new Member(cm.memberId(), cm.groupInstanceId(), cm.clientId(), cm.clientHost(), cm.rebalanceTimeoutMs(),
                            cm.sessionTimeoutMs(), List.copyOf(protocols));
                    m.assignment = StoredGroupData.bytes(cm.assignment());
                    members.add(m);
                }
                return new Snapshot(g.generation(), g.protocolType(), g.protocolName(), g.leaderId(), members);
            });
        }
        if (data == null || data.length == 0 || data[0] != LEGACY_FORMAT) return null;
        return legacy(data);
    }

    private static Snapshot legacy(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            in.readByte();
            int generation = in.readInt();
            String type = readNullable(in);
            String name = readNullable(in);
            String leader = readNullable(in);
            int n = in.readInt();
            List<Member> members = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String id = in.readUTF();
                String instance = readNullable(in);
                String clientId = in.readUTF();
                String host = in.readUTF();
                int rebalance = in.readInt();
                int session = in.readInt();
                int np = in.readInt();
                List<Protocol> protocols = new ArrayList<>(np);
                for (int j = 0; j < np; j++) protocols.add(new Protocol(in.readUTF(), readBytes(in)));
                Member m = new Member(id, instance, clientId, host, rebalance, session, List.copyOf(protocols));
                m.assignment = readBytes(in);
                members.add(m);
            }
            return new Snapshot(generation, type, name, leader, members);
        } catch (IOException | RuntimeException e) { // EOF, a negative count
            return null;
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) throw new IOException("bad length " + n);
        return in.readNBytes(n);
    }
}
