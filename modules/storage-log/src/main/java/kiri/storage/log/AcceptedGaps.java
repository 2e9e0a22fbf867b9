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
        List<long[]> stored = MetaFiles.read(g.file, MetaCodec::acceptedGaps);
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
        AtomicFiles.write(file, MetaCodec.acceptedGaps(ranges));
    }
}
