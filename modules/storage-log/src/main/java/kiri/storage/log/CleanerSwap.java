package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import kiri.protocol.record.RecordBatch;

/**
 * Replaces a run of sealed segments by the segment the {@link Cleaner} wrote for them, so that a crash at any point
 * leaves a log that the next open either rolls back or finishes:
 * <ol>
 *   <li>the cleaner writes {@code <base>.log.cleaned} and forces it (a crash: the next open deletes it, the old
 *       segments stand);</li>
 *   <li>{@link #swap} renames it to {@code <base>.log.swap} and forces the directory: the commit point;</li>
 *   <li>it deletes the old segments' files, renames the swap to {@code <base>.log} and forces the directory
 *       (a crash in between: {@link #recover} deletes what is left of the old segments in the swap's offset range,
 *       from {@code base} to the end of its last batch, and renames it).</li>
 * </ol>
 * The cleaned segment covers exactly the old run's offsets (runs of dropped batches become one empty batch spanning
 * their offsets, see {@link kiri.storage.compaction.GapBatches}), so offsets stay contiguous batch to batch and
 * segment to segment, as recovery requires. Called under the partition's monitor
 * ({@link #swap}) or while it is being opened ({@link #recover}).
 */
final class CleanerSwap {
    static final String CLEANED = ".log.cleaned";
    static final String SWAP = ".log.swap";

    private CleanerSwap() {
    }

    static Path cleanedPath(Path dir, long base) {
        return dir.resolve(Segment.fileName(base, CLEANED));
    }

    /** At open, before the segments are listed: drops unfinished cleanings, finishes committed swaps. */
    static void recover(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return;
        List<Path> swaps = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path f : entries) {
                String name = f.getFileName().toString();
                if (name.endsWith(CLEANED)) Files.deleteIfExists(f);
                if (name.endsWith(SWAP)) swaps.add(f);
            }
        }
        for (Path swap : swaps) {
            String name = swap.getFileName().toString();
            long base = Long.parseLong(name.substring(0, name.length() - SWAP.length()));
            long end = endOffset(swap, base);
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.log")) {
                for (Path f : entries) {
                    String n = f.getFileName().toString();
                    long b = Long.parseLong(n.substring(0, n.length() - 4));
                    if (b >= base && b < end) Segment.deleteFiles(dir, b);
                }
            }
            Files.move(swap, dir.resolve(Segment.fileName(base, ".log")), StandardCopyOption.ATOMIC_MOVE);
        }
        if (!swaps.isEmpty()) AtomicFiles.forceDirectory(dir);
    }

    /**
     * Commits {@code cleaned} (written and forced) as the replacement of {@code old} (consecutive sealed segments,
     * the first at {@code base}) and returns the new segment, indexed and sealed. Under the partition's monitor.
     */
    static Segment swap(Path dir, long base, Path cleaned, Segment[] old, long nowMs) throws IOException {
        Path swap = dir.resolve(Segment.fileName(base, SWAP));
        Files.move(cleaned, swap, StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.forceDirectory(dir);
        for (Segment s : old) s.delete(); // open channels keep serving fetches in flight
        Files.move(swap, dir.resolve(Segment.fileName(base, ".log")), StandardCopyOption.ATOMIC_MOVE);
        AtomicFiles.forceDirectory(dir);
        Segment fresh = Segment.open(dir, base, nowMs);
        long size = fresh.log.size();
        FileWindow w = new FileWindow(fresh.log, size, 1 << 20);
        long pos = 0;
        while (pos < size) {
            MemorySegment h = w.view(pos, RecordBatch.PRODUCER_ID_OFFSET);
            if (h == null) throw new IOException("cleaned segment " + swap + " is torn at " + pos);
            long b = RecordBatch.baseOffset(h);
            int len = RecordBatch.LOG_OVERHEAD + RecordBatch.batchLength(h);
            fresh.indexBatch(pos, b, RecordBatch.nextOffset(h, b), len, RecordBatch.maxTimestamp(h), false);
            pos += len;
        }
        fresh.finishRecovery(size);
        fresh.seal();
        return fresh;
    }

    /** The offset after the last whole batch of {@code file}. */
    private static long endOffset(Path file, long base) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            FileWindow w = new FileWindow(ch, size, 1 << 16);
            long pos = 0;
            long end = base;
            while (pos < size) {
                MemorySegment h = w.view(pos, RecordBatch.PRODUCER_ID_OFFSET);
                if (h == null) break;
                long b = RecordBatch.baseOffset(h);
                end = RecordBatch.nextOffset(h, b);
                pos += RecordBatch.LOG_OVERHEAD + (long) RecordBatch.batchLength(h);
            }
            return end;
        }
    }
}
