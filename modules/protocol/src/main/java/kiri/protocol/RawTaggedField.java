package kiri.protocol;

import java.lang.foreign.MemorySegment;

/**
 * A tagged field this codec does not know, kept as its raw bytes so that it is written back
 * exactly as it was read. {@code data} is a view of the input frame when decoded.
 */
public record RawTaggedField(int tag, MemorySegment data) {
    @Override
    public boolean equals(Object o) {
        return o instanceof RawTaggedField other && tag == other.tag
                && data.byteSize() == other.data.byteSize() && data.mismatch(other.data) < 0;
    }

    @Override
    public int hashCode() {
        return 31 * tag + Long.hashCode(data.byteSize());
    }
}
