package kiri.coordinator;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The coordinator's encoding of a group in {@link kiri.storage.api.GroupState#data()}: generation,
 * protocol, leader and members with their protocols and assignment. Engines never read it.
 */
final class GroupCodec {
    private static final byte FORMAT = 1;

    private GroupCodec() {
    }

    record Snapshot(int generation, String protocolType, String protocolName, String leaderId, List<Member> members) {
    }

    static byte[] encode(Group g) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeInt(g.generation);
            writeNullable(out, g.protocolType);
            writeNullable(out, g.protocolName);
            writeNullable(out, g.leaderId);
            out.writeInt(g.members.size());
            for (Member m : g.members.values()) {
                out.writeUTF(m.memberId);
                writeNullable(out, m.groupInstanceId);
                out.writeUTF(m.clientId);
                out.writeUTF(m.clientHost);
                out.writeInt(m.rebalanceTimeoutMs);
                out.writeInt(m.sessionTimeoutMs);
                out.writeInt(m.protocols.size());
                for (Protocol p : m.protocols) {
                    out.writeUTF(p.name());
                    writeBytes(out, p.metadata());
                }
                writeBytes(out, m.assignment);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Decodes {@code data}; null if it is empty or not in this format (e.g. an offsets-only group). */
    static Snapshot decode(byte[] data) {
        if (data == null || data.length == 0 || data[0] != FORMAT) return null;
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
        } catch (IOException e) {
            return null;
        }
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) out.writeUTF(s);
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) throw new IOException("bad length " + n);
        return in.readNBytes(n);
    }
}
