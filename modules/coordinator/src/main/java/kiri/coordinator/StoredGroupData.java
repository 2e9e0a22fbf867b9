package kiri.coordinator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kiri.protocol.Message;
import kiri.protocol.WireReader;
import kiri.protocol.WireWriter;

/**
 * How the coordinator frames its state in {@link kiri.storage.api.GroupState#data()}: a zero byte, the int16 version
 * of the record's spec, then a record generated from Kiri's own JSON specs in {@code src/main/kiri-specs}
 * ({@code ClassicGroupValue}, {@code ConsumerGroupValue}), written at its highest version. The hand-written formats
 * before it began with the byte 1 (classic) or {@code 'C'} (consumer), so the first byte tells them apart. Stateless.
 */
final class StoredGroupData {
    private StoredGroupData() {}

    static final byte GENERATED = 0;

    interface RecordReader<T> {
        T read(WireReader r, short version);
    }

    static byte[] encode(Message record) {
        short version = record.highestSupportedVersion();
        byte[] out = new byte[1 + 2 + record.size(version)];
        WireWriter w = new WireWriter(MemorySegment.ofArray(out));
        w.writeInt8(GENERATED);
        w.writeInt16(version);
        record.write(w, version);
        return out;
    }

    static boolean isGenerated(byte[] data) {
        return data != null && data.length >= 3 && data[0] == GENERATED;
    }

    /**
     * The record in {@code data} (which {@link #isGenerated}), or null if it is damaged (the group starts afresh, as
     * with any unreadable state).
     *
     * @throws NewerGroupStateException if a newer Kiri wrote it: starting afresh would overwrite its state
     */
    static <T> T decode(String groupId, byte[] data, String record, short highest, RecordReader<T> reader) {
        WireReader r = new WireReader(MemorySegment.ofArray(data), 1, data.length - 1);
        short version = r.readInt16();
        if (version < 0 || version > highest) throw new NewerGroupStateException(groupId, record, version, highest);
        try {
            T value = reader.read(r, version);
            return r.remaining() == 0 ? value : null;
        } catch (RuntimeException e) { // a length past the end, bad UTF-8, an unknown enum name
            return null;
        }
    }

    /** A copy of a decoded bytes field (a view of {@code data}) that the group owns. */
    static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }
}
