package kiri.storage.api;

import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * Where fetched batch bytes are: in memory, or a range of a file that the transport can send with
 * {@code FileChannel.transferTo} (zero-copy) without the bytes ever entering the JVM. Either way a region
 * holds whole v2 batches, back to back, already carrying their offsets. Valid until the
 * {@link FetchResult} holding it is closed.
 */
public sealed interface BatchRegion {

    long byteSize();

    /** Batches in a memory segment (heap or native), read-only for the caller. */
    record Segment(MemorySegment segment) implements BatchRegion {
        public Segment {
            Objects.requireNonNull(segment, "segment");
        }

        @Override
        public long byteSize() {
            return segment.byteSize();
        }
    }

    /** Batches in {@code [position, position + length)} of an open file; the caller must not close the channel. */
    record FileRange(FileChannel channel, long position, long length) implements BatchRegion {
        public FileRange {
            Objects.requireNonNull(channel, "channel");
            if (position < 0 || length < 0) throw new IllegalArgumentException("negative position or length");
        }

        @Override
        public long byteSize() {
            return length;
        }
    }
}
