package kiri.storage.api;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the broker keeps about security: SCRAM credentials and ACLs. Small (kilobytes), so it is read once at
 * startup and written whole on every change ({@link Storage#saveSecurity}). Immutable.
 *
 * <p>{@link #encode}/{@link #decode} give engines that store bytes one versioned format to use.
 */
public record SecurityState(List<ScramCredential> scram, List<AclEntry> acls) {
    public static final SecurityState EMPTY = new SecurityState(List.of(), List.of());
    private static final int MAGIC = 0x4b534543; // "KSEC"
    private static final int VERSION = 1;

    public SecurityState {
        scram = List.copyOf(scram);
        acls = List.copyOf(acls);
    }

    public SecurityState withScram(List<ScramCredential> credentials) {
        return new SecurityState(credentials, acls);
    }

    public SecurityState withAcls(List<AclEntry> entries) {
        return new SecurityState(scram, entries);
    }

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(scram.size());
            for (ScramCredential c : scram) {
                out.writeUTF(c.user());
                out.writeUTF(c.mechanism());
                writeBytes(out, c.salt());
                writeBytes(out, c.storedKey());
                writeBytes(out, c.serverKey());
                out.writeInt(c.iterations());
            }
            out.writeInt(acls.size());
            for (AclEntry a : acls) {
                out.writeByte(a.resourceType());
                out.writeUTF(a.resourceName());
                out.writeByte(a.patternType());
                out.writeUTF(a.principal());
                out.writeUTF(a.host());
                out.writeByte(a.operation());
                out.writeByte(a.permissionType());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    /** @throws IllegalArgumentException naming what is wrong when {@code data} is not an encoded state */
    public static SecurityState decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not a security state (bad magic)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IllegalArgumentException("security state version " + version + " is not supported");
            }
            int n = count(in, data.length);
            List<ScramCredential> scram = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                scram.add(new ScramCredential(in.readUTF(), in.readUTF(), readBytes(in, data.length),
                        readBytes(in, data.length), readBytes(in, data.length), in.readInt()));
            }
            n = count(in, data.length);
            List<AclEntry> acls = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                acls.add(new AclEntry(in.readByte(), in.readUTF(), in.readByte(), in.readUTF(), in.readUTF(),
                        in.readByte(), in.readByte()));
            }
            return new SecurityState(scram, acls);
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated security state", e);
        }
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in, int limit) throws IOException {
        return in.readNBytes(count(in, limit));
    }

    /** A count or length, checked against the input size before anything is allocated. */
    private static int count(DataInputStream in, int limit) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > limit) {
            throw new IllegalArgumentException("bad count " + n + " in security state");
        }
        return n;
    }
}
