package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.kit.PartitionProducerState;

/**
 * Opens a partition's segments and decides what to do with whatever does not read back as contiguous whole batches.
 * Every segment's batch headers are replayed (producer state, index entries); the last segment is also CRC-checked
 * after an unclean shutdown. Where a segment stops making sense, {@link TailScan} looks at the rest of the file:
 * <ul>
 *   <li>only zeros: a preallocated zone or a length that outlived its data; cut, nothing is lost;</li>
 *   <li>the last segment after a crash, with nothing intact after the bad spot: a torn write, never acknowledged
 *       (segments are forced before they roll and a batch is acknowledged only once forced, or as the fsync mode
 *       says); cut and logged at WARN;</li>
 *   <li>anything else (a bad batch with intact data after it, in a sealed segment, in the active segment after a clean
 *       shutdown, a gap between segments, a log file whose index is still there): damage. Recovery refuses with one
 *       line naming the file, the byte, the offset and the cause, unless the operator opened with
 *       {@code recover=truncate}: then the segment is cut at the damage, later segments are kept, the lost range is
 *       recorded in {@link AcceptedGaps} and logged at WARN, and offsets continue after the highest one seen, so
 *       none is handed out twice.</li>
 * </ul>
 * Runs on the opening thread, once per partition.
 */
final class Recovery {
    private static final System.Logger LOG = System.getLogger("kiri.storage.log");

    private final TopicPartition tp;
    private final Path dir;
    private final RecoveryPolicy policy;
    private final PartitionProducerState producers;
    private final long nowMs;

    /** Bytes cut off (torn tails, zeros, and with recover=truncate damaged data). */
    long truncatedBytes;
    /** Some index disagreed with its log and was rewritten. */
    boolean indexRebuilt;

    Recovery(TopicPartition tp, Path dir, RecoveryPolicy policy, PartitionProducerState producers, long nowMs) {
        this.tp = tp;
        this.dir = dir;
        this.policy = policy;
        this.producers = producers;
        this.nowMs = nowMs;
    }

    /** Where a replay stopped: the valid prefix's size, the offset after it, and why it stopped (null at the end). */
    record Walk(long valid, long next, String stop) {}

    /** The segments, oldest first (possibly none); the caller seals all but the last. */
    List<Segment> run() throws IOException {
        TreeMap<Long, Path> logs = new TreeMap<>();
        TreeSet<Long> indexed = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path f : entries) {
                String name = f.getFileName().toString();
                if (name.endsWith(AtomicFiles.TMP_SUFFIX)) Files.deleteIfExists(f);
                else if (name.endsWith(".log")) logs.put(base(name, ".log"), f);
                else if (name.endsWith(".index")) indexed.add(base(name, ".index"));
                else if (name.endsWith(".timeindex")) indexed.add(base(name, ".timeindex"));
            }
        }
        AcceptedGaps gaps = AcceptedGaps.load(dir);
        long jumpTo = -1L; // with recover=truncate: offsets continue here, after the highest one seen
        indexed.removeAll(logs.keySet());
        for (long orphan : indexed) { // a log file gone while its index stayed: its batches are lost
            String what = name(dir.resolve(Segment.fileName(orphan, ".log"))) + " is missing (its index files are there)";
            if (!policy.truncate()) throw refuse(what);
            jumpTo = Math.max(jumpTo, highestIndexedOffset(orphan) + 1);
            LOG.log(System.Logger.Level.WARNING, "recover=truncate: " + tp + ": " + what + "; the offsets it held from "
                    + orphan + " are lost; removing its index files");
            Segment.deleteFiles(dir, orphan);
        }
        List<Segment> open = new ArrayList<>();
        try {
            Long[] bases = logs.keySet().toArray(new Long[0]);
            for (int i = 0; i < bases.length; i++) {
                long base = bases[i];
                if (!open.isEmpty()) {
                    long prevEnd = open.getLast().nextOffset;
                    if (base < prevEnd) {
                        String what = name(logs.get(base)) + " starts at offset " + base + ", inside the previous segment, which ends at " + prevEnd;
                        if (!policy.truncate()) throw refuse(what);
                        LOG.log(System.Logger.Level.WARNING, "recover=truncate: " + tp + ": " + what + "; deleting it ("
                                + Files.size(logs.get(base)) + " bytes of offsets stored twice)");
                        truncatedBytes += Files.size(logs.get(base));
                        Segment.deleteFiles(dir, base);
                        continue;
                    }
                    if (base > prevEnd && !gaps.covers(prevEnd, base)) {
                        String what = "offsets " + prevEnd + " to " + (base - 1) + " are missing: " + name(open.getLast().logPath)
                                + " ends at " + prevEnd + " and the next file is " + name(logs.get(base)) + " (" + (bases.length - i)
                                + " segment files follow the gap)";
                        if (!policy.truncate()) throw refuse(what);
                        gaps.accept(prevEnd, base);
                        LOG.log(System.Logger.Level.WARNING, "recover=truncate: " + tp + ": " + what
                                + "; accepted as lost, offsets go on from " + base);
                    }
                }
                Segment s = Segment.open(dir, base, nowMs);
                open.add(s);
                boolean last = i == bases.length - 1;
                long fileSize = s.log.size();
                Walk w = replay(s, fileSize, last && !policy.cleanShutdown(), producers, true);
                if (w.valid() < fileSize) {
                    long next = i + 1 < bases.length ? bases[i + 1] : -1L;
                    jumpTo = Math.max(jumpTo, cut(s, w, fileSize, last, bases.length - 1 - i, next, gaps));
                }
                s.finishRecovery(w.valid());
                if (s.indexRebuilt) {
                    indexRebuilt = true;
                    LOG.log(System.Logger.Level.INFO, tp + ": rebuilt the index of " + s.logPath + " (it disagreed with the log)");
                }
            }
            long end = open.isEmpty() ? -1L : open.getLast().nextOffset;
            Long cleanEnd = policy.cleanEnds().get(dir.getFileName().toString());
            if (cleanEnd != null && cleanEnd > Math.max(end, 0) && jumpTo < cleanEnd) {
                String what = "the log ends at offset " + Math.max(end, 0) + " but ended at " + cleanEnd + " at the last clean shutdown"
                        + (open.isEmpty() ? " (no segment file is left)" : " (last file: " + name(open.getLast().logPath) + ")");
                if (!policy.truncate()) throw refuse(what);
                LOG.log(System.Logger.Level.WARNING, "recover=truncate: " + tp + ": " + what + "; offsets " + Math.max(end, 0)
                        + " to " + (cleanEnd - 1) + " are lost, offsets go on from " + cleanEnd);
                jumpTo = cleanEnd;
            }
            if (jumpTo > end) {
                if (!open.isEmpty()) gaps.accept(end, jumpTo);
                open.add(Segment.open(dir, jumpTo, nowMs));
                AtomicFiles.forceDirectory(dir);
            }
            return open;
        } catch (IOException | RuntimeException e) {
            for (Segment s : open) s.close();
            throw e;
        }
    }

    /**
     * Decides about the bytes after {@code w}'s valid prefix (see the class comment); returns the offset after the
     * highest intact one found beyond the damage, for recover=truncate to continue from ({@code -1} if none).
     */
    private long cut(Segment s, Walk w, long fileSize, boolean last, int laterFiles, long nextBase, AcceptedGaps gaps)
            throws IOException {
        TailScan tail = TailScan.of(s.log, w.valid(), fileSize);
        long lost = fileSize - w.valid();
        truncatedBytes += lost;
        if (tail.zeros()) {
            LOG.log(System.Logger.Level.INFO, tp + ": cut " + lost + " bytes of zeros after the last batch of " + s.logPath);
            return -1L;
        }
        if (last && !policy.cleanShutdown() && tail.batches() == 0) {
            LOG.log(System.Logger.Level.WARNING, tp + ": cut the torn tail of " + s.logPath + " after an unclean shutdown: "
                    + lost + " bytes from byte " + w.valid() + " (offset " + w.next() + " on, " + w.stop()
                    + "), a write the crash interrupted");
            return -1L;
        }
        String what = name(s.logPath) + " is damaged at byte " + w.valid() + " (offset " + w.next() + "): " + w.stop() + "; "
                + (tail.batches() == 0 ? "nothing readable follows it in the file"
                        : tail.records() + " records in " + tail.batches() + " intact batches follow it in the file")
                + (laterFiles > 0 ? ", and " + laterFiles + " later segment files" : "");
        if (!policy.truncate()) throw refuse(what);
        long resume = nextBase >= 0 ? nextBase : Math.max(w.next(), tail.maxNextOffset());
        if (nextBase > w.next()) gaps.accept(w.next(), nextBase);
        LOG.log(System.Logger.Level.WARNING, "recover=truncate: " + tp + ": " + what + "; cut " + lost + " bytes at byte "
                + w.valid() + ": " + (resume > w.next() ? "offsets " + w.next() + " to " + (resume - 1) + " are lost"
                        : "the offsets from " + w.next() + " on in them are lost (none could be read back)")
                + (laterFiles > 0 ? "; later segments are kept" : "; offsets go on from " + resume));
        return nextBase >= 0 ? -1L : tail.maxNextOffset();
    }

    /** A file's name from the storage root on ({@code data/<topic id>-<partition>/<file>}): the open's message names the root. */
    private String name(Path file) {
        Path root = dir.getParent() == null || dir.getParent().getParent() == null ? dir : dir.getParent().getParent();
        return root.relativize(file).toString();
    }

    private StorageException refuse(String what) {
        return new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "partition " + tp + ": " + what
                + ". Nothing was changed; to cut the log there and accept the loss, reopen with " + policy.reopenHint());
    }

    /** The highest offset an orphaned offset index points at (its base if it has no entries). */
    private long highestIndexedOffset(long base) throws IOException {
        Path index = dir.resolve(Segment.fileName(base, ".index"));
        long highest = base;
        if (!Files.exists(index)) return highest;
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(index)).order(ByteOrder.BIG_ENDIAN);
        while (b.remaining() >= Segment.OFFSET_ENTRY) {
            int rel = b.getInt();
            b.getInt();
            if (rel <= 0) break;
            highest = Math.max(highest, base + rel);
        }
        return highest;
    }

    private static long base(String name, String suffix) {
        String digits = name.substring(0, name.length() - suffix.length());
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "unexpected file " + name + " in a partition directory");
        }
    }

    /**
     * Replays a segment's batches below {@code fileSize}: checks each header (and each CRC if {@code checkCrc}),
     * rebuilds the producer state and, if {@code reindex}, re-derives the index entries. Stops at the first batch that
     * does not fit and says why.
     */
    static Walk replay(Segment s, long fileSize, boolean checkCrc, PartitionProducerState producers, boolean reindex)
            throws IOException {
        FileWindow window = new FileWindow(s.log, fileSize, 1 << 20);
        long pos = 0;
        long expected = s.baseOffset;
        String stop = null;
        while (pos < fileSize) {
            MemorySegment header = window.view(pos, RecordBatch.HEADER_SIZE);
            if (header == null) {
                stop = "a batch header cut short by the end of the file";
                break;
            }
            int length = RecordBatch.batchLength(header);
            long base = RecordBatch.baseOffset(header);
            int delta = RecordBatch.lastOffsetDelta(header);
            stop = length < RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD ? "a batch length of " + length
                    : RecordBatch.magic(header) != 2 ? "magic byte " + RecordBatch.magic(header) + " instead of 2"
                    : base != expected ? "base offset " + base + " where " + expected + " was expected"
                    : delta < 0 ? "a last offset delta of " + delta
                    : pos + RecordBatch.LOG_OVERHEAD + length > fileSize
                            ? "a batch of " + (RecordBatch.LOG_OVERHEAD + length) + " bytes runs past the end of the file"
                    : null;
            if (stop != null) break;
            int size = RecordBatch.LOG_OVERHEAD + length;
            long next = base + delta + 1L;
            boolean control = RecordBatch.isControl(header);
            // Without a full CRC scan, still check the batches whose header decides where the next one starts when
            // that does not fit: the file's last batch (the next segment's base) and one not followed by its successor,
            // so that a flipped offset delta is blamed on its own batch rather than on the intact one after it.
            boolean crc = checkCrc || pos + size + RecordBatch.HEADER_SIZE > fileSize || !followedBy(window, pos + size, next);
            MemorySegment batch = crc || control ? window.view(pos, size) : window.view(pos, RecordBatch.HEADER_SIZE);
            if (crc && !RecordBatch.isCrcValid(batch)) {
                stop = "a CRC mismatch";
                break;
            }
            producers.onAppend(batch, base);
            if (reindex) s.indexBatch(pos, base, next, size, RecordBatch.maxTimestamp(batch), true);
            expected = next;
            pos += size;
        }
        return new Walk(pos, expected, stop);
    }

    /** Whether the batch header at {@code pos} starts at offset {@code next} (the window's earlier views go stale). */
    private static boolean followedBy(FileWindow window, long pos, long next) throws IOException {
        MemorySegment h = window.view(pos, RecordBatch.HEADER_SIZE);
        return h != null && RecordBatch.baseOffset(h) == next;
    }
}
