package kiri.storage.log;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Offset ranges of a partition that an operator accepted as lost ({@code recover=truncate}), in {@code accepted-gaps}
 * in the partition's directory. Recovery refuses a gap between segments unless it is listed here, so a loss is
 * accepted once, explicitly, and offsets after it are never handed out again. Recovery's thread only.
 */
final class AcceptedGaps {
    static final String FILE = "accepted-gaps";

    private final Path file;
    private final List<long[]> ranges = new ArrayList<>();

    private AcceptedGaps(Path file) {
        this.file = file;
    }

    static AcceptedGaps load(Path partitionDir) {
        AcceptedGaps g = new AcceptedGaps(partitionDir.resolve(FILE));
        List<long[]> stored = MetaFiles.read(g.file, bytes -> MetaCodec.decode(bytes, in -> {
            int n = in.readInt();
            if (n < 0 || n > in.available() / 16) throw new java.io.IOException("a count of " + n);
            List<long[]> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) out.add(new long[] {in.readLong(), in.readLong()});
            return out;
        }));
        if (stored != null) g.ranges.addAll(stored);
        return g;
    }

    /** Whether offsets {@code [from, to)} were accepted as lost. */
    boolean covers(long from, long to) {
        for (long[] r : ranges) if (r[0] <= from && to <= r[1]) return true;
        return false;
    }

    /** Records {@code [from, to)} as accepted, durably, before the log is changed to rely on it. */
    void accept(long from, long to) {
        ranges.add(new long[] {from, to});
        AtomicFiles.write(file, MetaCodec.encode(out -> {
            out.writeInt(ranges.size());
            for (long[] r : ranges) {
                out.writeLong(r[0]);
                out.writeLong(r[1]);
            }
        }));
    }
}
