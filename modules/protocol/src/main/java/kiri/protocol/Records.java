package kiri.protocol;

import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.Objects;

/**
 * The value of a {@code records} field: whole v2 record batches, back to back. Decoders produce
 * {@link Memory} (a view of the frame, never a copy); a broker answering a fetch may instead hand the
 * encoder what storage returned, {@link Region}s in memory or in files, which a splicing
 * {@link WireWriter} leaves out of the frame for the transport to send with {@code transferTo}.
 *
 * <p>Immutable values; the bytes they reference must stay valid (and unchanged) until the message
 * holding them has been written. Nothing here reads a file.
 */
public sealed interface Records permits Records.Region, Records.Regions {

    /** No batches: what Kafka sends for a partition with nothing to return, or in error. */
    Records EMPTY = new Memory(MemorySegment.ofArray(new byte[0]));

    /** Bytes on the wire. */
    long byteSize();

    /**
     * The bytes as one memory segment: always there for decoded records.
     *
     * @throws IllegalStateException for records made of several regions or of a file region (those are
     *         sent, never read)
     */
    MemorySegment memory();

    /** Bytes in file regions: what an encoder leaves out of the frame for the transport to send. */
    default long fileBytes() {
        return switch (this) {
            case Memory m -> 0;
            case FileRegion f -> f.length();
            case Regions rs -> {
                long n = 0;
                for (Region r : rs.regions()) {
                    n += r.fileBytes();
                }
                yield n;
            }
        };
    }

    /** {@code segment} as records; null stays null (a null records field). */
    static Records of(MemorySegment segment) {
        return segment == null ? null : new Memory(segment);
    }

    /** Records made of {@code regions} in order: the region itself when there is one. */
    static Records of(List<? extends Region> regions) {
        return regions.size() == 1 ? regions.getFirst() : new Regions(List.copyOf(regions));
    }

    /** A contiguous range of batch bytes, in memory or in a file. */
    sealed interface Region extends Records permits Memory, FileRegion {
    }

    /** Batches in a memory segment (heap or native), read-only for whoever encodes them. */
    record Memory(MemorySegment segment) implements Region {
        public Memory {
            Objects.requireNonNull(segment, "segment");
        }

        @Override
        public long byteSize() {
            return segment.byteSize();
        }

        @Override
        public MemorySegment memory() {
            return segment;
        }
    }

    /** Batches in {@code [position, position + length)} of an open file; encoders never close the channel. */
    record FileRegion(FileChannel channel, long position, long length) implements Region {
        public FileRegion {
            Objects.requireNonNull(channel, "channel");
            if (position < 0 || length < 0) {
                throw new IllegalArgumentException("negative position or length");
            }
        }

        @Override
        public long byteSize() {
            return length;
        }

        @Override
        public MemorySegment memory() {
            throw new IllegalStateException("records in a file region are sent, not read");
        }
    }

    /** Several regions, back to back, in order. */
    record Regions(List<Region> regions, long byteSize) implements Records {
        public Regions(List<Region> regions) {
            this(regions, sum(regions));
        }

        public Regions {
            regions = List.copyOf(regions);
            if (byteSize != sum(regions)) {
                throw new IllegalArgumentException(byteSize + " bytes announced for regions of " + sum(regions));
            }
        }

        private static long sum(List<Region> regions) {
            long n = 0;
            for (Region r : regions) {
                n += r.byteSize();
            }
            return n;
        }

        @Override
        public MemorySegment memory() {
            throw new IllegalStateException("records of " + regions.size() + " regions are sent, not read");
        }
    }
}
