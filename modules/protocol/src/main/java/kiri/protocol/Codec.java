package kiri.protocol;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Shared encode/decode steps that the generated message classes call. Flags such as
 * {@code flexible} and {@code nullable} arrive as constants or as the one version comparison the
 * generator could not resolve, so the JIT folds them away at each call site.
 *
 * <p>Readers validate every length against the bytes remaining before they allocate; writers
 * reject values the wire can't express. Both throw {@link ProtocolException}.
 */
public final class Codec {
    public static final UUID ZERO_UUID = new UUID(0L, 0L);
    /** The default of non-nullable bytes fields: zero length, so it can be shared. */
    public static final MemorySegment EMPTY_BYTES = MemorySegment.ofArray(new byte[0]);

    private static final int MAX_STRING_LENGTH = 0x7fff;

    private Codec() {
    }

    public static void checkVersion(short version, short lowest, short highest, String message) {
        if (version < lowest || version > highest) {
            throw new ProtocolException(message + " has no version " + version + " (valid: " + lowest + "-" + highest + ")");
        }
    }

    private static int readLength(WireReader r, boolean flexible, boolean shortLength) {
        if (flexible) {
            return r.readUnsignedVarint() - 1;
        }
        return shortLength ? r.readInt16() : r.readInt32();
    }

    private static ProtocolException nullNotAllowed(String field, long offset) {
        return new ProtocolException("non-nullable field " + field + " was serialized as null at offset " + offset);
    }

    // ---- strings

    public static String readString(WireReader r, boolean flexible, boolean nullable, String field) {
        long at = r.position();
        int length = readLength(r, flexible, true);
        if (length < 0) {
            if (nullable) {
                return null;
            }
            throw nullNotAllowed(field, at);
        }
        if (length > MAX_STRING_LENGTH) {
            throw new ProtocolException("string field " + field + " had invalid length " + length + " at offset " + at);
        }
        if (length > r.remaining()) {
            throw new ProtocolException("string field " + field + " of length " + length + " at offset " + at
                    + " exceeds the " + r.remaining() + " bytes remaining");
        }
        return r.readUtf8(length);
    }

    private static int checkedUtf8Length(String s, String field) {
        int length = Sizes.utf8Length(s);
        if (length > MAX_STRING_LENGTH) {
            throw new ProtocolException("string field " + field + " is too long to encode: " + length + " bytes");
        }
        return length;
    }

    public static int stringSize(String s, boolean flexible, boolean nullable, String field) {
        if (s == null) {
            if (!nullable) {
                throw new ProtocolException("non-nullable field " + field + " is null");
            }
            return flexible ? 1 : 2;
        }
        byte[] cached = WireStrings.utf8(s);
        int length = cached != null ? cached.length : checkedUtf8Length(s, field);
        return length + (flexible ? Sizes.unsignedVarintSize(length + 1) : 2);
    }

    public static void writeString(WireWriter w, String s, boolean flexible, boolean nullable, String field) {
        if (s == null) {
            if (!nullable) {
                throw new ProtocolException("non-nullable field " + field + " is null");
            }
            if (flexible) {
                w.writeUnsignedVarint(0);
            } else {
                w.writeInt16((short) -1);
            }
            return;
        }
        byte[] cached = WireStrings.utf8(s);
        int length = cached != null ? cached.length : checkedUtf8Length(s, field);
        if (flexible) {
            w.writeUnsignedVarint(length + 1);
        } else {
            w.writeInt16((short) length);
        }
        if (cached != null) {
            w.writeBytes(cached);
        } else {
            w.writeUtf8(s);
        }
    }

    // ---- bytes and records: views of the input, never copies

    public static MemorySegment readBytes(WireReader r, boolean flexible, boolean nullable, String field) {
        long at = r.position();
        int length = readLength(r, flexible, false);
        if (length < 0) {
            if (nullable) {
                return null;
            }
            throw nullNotAllowed(field, at);
        }
        if (length > r.remaining()) {
            throw new ProtocolException("bytes field " + field + " of length " + length + " at offset " + at
                    + " exceeds the " + r.remaining() + " bytes remaining");
        }
        return r.readSlice(length);
    }

    public static int bytesSize(MemorySegment b, boolean flexible, boolean nullable, String field) {
        if (b == null) {
            if (!nullable) {
                throw new ProtocolException("non-nullable field " + field + " is null");
            }
            return flexible ? 1 : 4;
        }
        int length = checkedLength(b, field);
        return length + (flexible ? Sizes.unsignedVarintSize(length + 1) : 4);
    }

    private static int checkedLength(MemorySegment b, String field) {
        return checkedLength(b.byteSize(), field);
    }

    private static int checkedLength(long n, String field) {
        if (n > Integer.MAX_VALUE - 1) {
            throw new ProtocolException("bytes field " + field + " is too long to encode: " + n + " bytes");
        }
        return (int) n;
    }

    public static void writeBytes(WireWriter w, MemorySegment b, boolean flexible, boolean nullable, String field) {
        if (b == null) {
            if (!nullable) {
                throw new ProtocolException("non-nullable field " + field + " is null");
            }
            if (flexible) {
                w.writeUnsignedVarint(0);
            } else {
                w.writeInt32(-1);
            }
            return;
        }
        int length = checkedLength(b, field);
        if (flexible) {
            w.writeUnsignedVarint(length + 1);
        } else {
            w.writeInt32(length);
        }
        w.writeSegment(b);
    }

    /** A records field: a {@link Records.Memory} view of the reader's segment, never a copy. */
    public static Records readRecords(WireReader r, boolean flexible, boolean nullable, String field) {
        MemorySegment bytes = readBytes(r, flexible, nullable, field);
        return bytes == null ? null : new Records.Memory(bytes);
    }

    public static int recordsSize(Records b, boolean flexible, boolean nullable, String field) {
        if (b == null) {
            return bytesSize(null, flexible, nullable, field);
        }
        int length = checkedLength(b.byteSize(), field);
        return length + (flexible ? Sizes.unsignedVarintSize(length + 1) : 4);
    }

    public static void writeRecords(WireWriter w, Records b, boolean flexible, boolean nullable, String field) {
        if (b == null) {
            writeBytes(w, null, flexible, nullable, field);
            return;
        }
        int length = checkedLength(b.byteSize(), field);
        if (flexible) {
            w.writeUnsignedVarint(length + 1);
        } else {
            w.writeInt32(length);
        }
        w.writeRecords(b);
    }

    // ---- arrays

    /**
     * Reads an array count and checks that {@code count * minElementSize} bytes remain, so a bogus
     * count can't make the caller allocate. Returns -1 for a null array.
     */
    public static int readArrayLength(WireReader r, boolean flexible, boolean nullable, int minElementSize,
            String field) {
        long at = r.position();
        int count = readLength(r, flexible, false);
        if (count < 0) {
            if (nullable) {
                return -1;
            }
            throw nullNotAllowed(field, at);
        }
        if ((long) count * minElementSize > r.remaining()) {
            throw new ProtocolException("array field " + field + " at offset " + at + " claims " + count
                    + " elements, but only " + r.remaining() + " bytes remain");
        }
        return count;
    }

    /** Size of an array's count prefix; {@code count} is -1 for null. */
    public static int arrayLengthSize(int count, boolean flexible, boolean nullable, String field) {
        if (count < 0 && !nullable) {
            throw new ProtocolException("non-nullable field " + field + " is null");
        }
        return flexible ? Sizes.unsignedVarintSize(count + 1) : 4;
    }

    public static void writeArrayLength(WireWriter w, int count, boolean flexible) {
        if (flexible) {
            w.writeUnsignedVarint(count + 1);
        } else {
            w.writeInt32(count);
        }
    }

    // ---- nullable structs: an int8 marker, -1 for null

    public static boolean readPresent(WireReader r) {
        return r.readInt8() >= 0;
    }

    public static void requireNonNull(Object value, String field) {
        if (value == null) {
            throw new ProtocolException("non-nullable field " + field + " is null");
        }
    }

    // ---- tagged fields

    public static int readTagCount(WireReader r) {
        long at = r.position();
        int count = r.readUnsignedVarint();
        // every tagged field takes at least two bytes (tag and size)
        if (count < 0 || (long) count * 2 > r.remaining()) {
            throw new ProtocolException("tagged field count " + Integer.toUnsignedString(count) + " at offset " + at
                    + " exceeds the " + r.remaining() + " bytes remaining");
        }
        return count;
    }

    public static int readTagSize(WireReader r, int tag) {
        long at = r.position();
        int size = r.readUnsignedVarint();
        if (size < 0 || size > r.remaining()) {
            throw new ProtocolException("tagged field " + tag + " at offset " + at + " has size "
                    + Integer.toUnsignedString(size) + ", but only " + r.remaining() + " bytes remain");
        }
        return size;
    }

    /** After a known tagged field: it must not have run past its declared size; skip what it didn't read. */
    public static void endTag(WireReader r, long end, int tag, String field) {
        if (r.position() > end) {
            throw new ProtocolException("tagged field " + field + " (tag " + tag + ") ran " + (r.position() - end)
                    + " bytes past its declared size at offset " + end);
        }
        r.position(end);
    }

    /**
     * Reads a tagged-field section of a struct that knows no tags: null when it is empty (nearly
     * always), else every field as a {@link RawTaggedField}.
     */
    public static List<RawTaggedField> readUnknownTags(WireReader r) {
        int count = readTagCount(r);
        return count == 0 ? null : readUnknownTags(r, count);
    }

    private static List<RawTaggedField> readUnknownTags(WireReader r, int count) {
        List<RawTaggedField> list = null;
        for (int t = 0; t < count; t++) {
            int tag = r.readUnsignedVarint();
            list = addUnknown(list, r, tag, readTagSize(r, tag));
        }
        return list;
    }

    /** The size of a tagged-field section holding only {@code list}'s fields (null for none). */
    public static int unknownTagsSectionSize(List<RawTaggedField> list) {
        return list == null ? 1 : Sizes.unsignedVarintSize(list.size()) + unknownTagsSize(list);
    }

    /** Writes a tagged-field section holding only {@code list}'s fields (null for none). */
    public static void writeUnknownTagsSection(WireWriter w, List<RawTaggedField> list) {
        if (list == null) {
            w.writeInt8((byte) 0);
            return;
        }
        w.writeUnsignedVarint(list.size());
        writeRemainingUnknownTags(w, list, 0);
    }

    public static List<RawTaggedField> addUnknown(List<RawTaggedField> list, WireReader r, int tag, int size) {
        List<RawTaggedField> out = list == null ? new ArrayList<>(1) : list;
        out.add(new RawTaggedField(tag, r.readSlice(size)));
        return out;
    }

    public static int unknownTagsSize(List<RawTaggedField> list) {
        if (list == null) {
            return 0;
        }
        int size = 0;
        for (RawTaggedField f : list) {
            int n = (int) f.data().byteSize();
            size += Sizes.unsignedVarintSize(f.tag()) + Sizes.unsignedVarintSize(n) + n;
        }
        return size;
    }

    public static int unknownTagsCount(List<RawTaggedField> list) {
        return list == null ? 0 : list.size();
    }

    /**
     * Writes the unknown tagged fields from index {@code from} whose tag is below {@code beforeTag},
     * so known and unknown fields go out in ascending tag order. Returns the next index.
     */
    public static int writeUnknownTags(WireWriter w, List<RawTaggedField> list, int from, int beforeTag) {
        if (list == null) {
            return 0;
        }
        int i = from;
        for (; i < list.size(); i++) {
            RawTaggedField f = list.get(i);
            if (Integer.compareUnsigned(f.tag(), beforeTag) >= 0) {
                break;
            }
            writeUnknownTag(w, f);
        }
        return i;
    }

    /** Writes the unknown tagged fields from index {@code from} on: those after the last known tag. */
    public static void writeRemainingUnknownTags(WireWriter w, List<RawTaggedField> list, int from) {
        if (list == null) {
            return;
        }
        for (int i = from; i < list.size(); i++) {
            writeUnknownTag(w, list.get(i));
        }
    }

    private static void writeUnknownTag(WireWriter w, RawTaggedField f) {
        w.writeUnsignedVarint(f.tag());
        w.writeUnsignedVarint((int) f.data().byteSize());
        w.writeSegment(f.data());
    }

    // ---- equality and printing of the generated classes

    public static boolean segmentsEqual(MemorySegment a, MemorySegment b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null || a.byteSize() != b.byteSize()) {
            return false;
        }
        return a.mismatch(b) < 0;
    }

    public static int segmentHash(MemorySegment a) {
        return a == null ? 0 : Long.hashCode(a.byteSize());
    }

    public static boolean unknownTagsEqual(List<RawTaggedField> a, List<RawTaggedField> b) {
        boolean aEmpty = a == null || a.isEmpty();
        boolean bEmpty = b == null || b.isEmpty();
        if (aEmpty || bEmpty) {
            return aEmpty == bEmpty;
        }
        return a.equals(b);
    }

    public static String describe(MemorySegment a) {
        return a == null ? "null" : "[" + a.byteSize() + " bytes]";
    }

    /** Memory records compare by content; records with file regions only by identity of their parts. */
    public static boolean recordsEqual(Records a, Records b) {
        if (a instanceof Records.Memory(MemorySegment x) && b instanceof Records.Memory(MemorySegment y)) {
            return segmentsEqual(x, y);
        }
        return java.util.Objects.equals(a, b);
    }

    public static int recordsHash(Records a) {
        return a == null ? 0 : Long.hashCode(a.byteSize());
    }

    public static String describe(Records a) {
        return a == null ? "null" : "[" + a.byteSize() + " bytes]";
    }
}
