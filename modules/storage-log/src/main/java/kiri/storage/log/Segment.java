package kiri.storage.log;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One segment of a partition's log: {@code <base>.log} holding whole v2 batches back to back, exactly as
 * produced (offsets assigned in place), and two sparse indexes memory-mapped from
 * {@code <base>.index} and {@code <base>.timeindex}. While the segment is active the index files are
 * preallocated (sparse, {@link #INDEX_BYTES}) and mapped read-write in one shared arena; when it rolls
 * ({@link #seal}) they are trimmed to their entries and mapped read-only in a new arena, and the
 * first arena closes once no reader uses it. Sealed segments opened by recovery are sealed the same way.
 *
 * <ul>
 *   <li>Offset index: 8-byte entries (offset - base, file position), one every {@link #INDEX_INTERVAL}
 *       bytes of log; the batch at position 0 is implicit, so a zero entry marks the end.</li>
 *   <li>Time index: 12-byte entries (T, offset - base) meaning "every batch before that offset has a max
 *       timestamp {@code <= T}", written with an offset-index entry when T grew.</li>
 * </ul>
 *
 * <p>Threading: one appender at a time, under the partition's monitor (the thread that assigned the
 * offsets, or the engine's writer thread, or recovery); readers on any thread read the volatile sizes and
 * counts first and then the bytes and entries below them. Any thread may {@link #force}.
 * Lifetime: reference-counted. The partition owns one reference; fetches and the writer take one
 * ({@link #retain}) while they use the channel or the indexes, so that retention or topic deletion
 * ({@link #delete}) closes the files and the arena only once nobody uses them.
 */
final class Segment {
    static final int INDEX_INTERVAL = 4096;
    static final int INDEX_BYTES = 1 << 20;
    static final int OFFSET_ENTRY = 8;
    static final int TIME_ENTRY = 12;
    /** How far ahead of the end {@link #extendZeroZone} writes zeros at a time, at most and at least. */
    static final int ZERO_ZONE_CHUNK = 4 << 20;
    static final int MIN_ZERO_ZONE_CHUNK = 64 << 10;
    private static final System.Logger LOG = System.getLogger("kiri.storage.log");

    final long baseOffset;
    final Path logPath;
    final Path indexPath;
    final Path timeIndexPath;
    final FileChannel log;
    /** Serializes forces and remembers the first that failed (guarded by itself). */
    private final Object forcing = new Object();
    private IOException forceFailure;
    /** {@link #size} when the last successful force began: the batches below it are durable. Guarded by forcing. */
    private long forcedSize = -1L;
    /** Forces made (not skipped), for tests. Guarded by forcing. */
    private int forces;
    /** The current index mappings; replaced once, by {@link #seal}. */
    private volatile Indexes indexes;
    final long createdMs;

    /** Bytes of whole batches written (readers never look past it; the file may be longer, see {@link #extendZeroZone}). */
    volatile long size;
    /** How much of the file has been written (batches, then zeros ahead of them). Under the partition's monitor. */
    private long writtenEnd;
    /** The offset after the last batch written. */
    volatile long nextOffset;
    /** Largest batch max timestamp in the segment, and the base offset of the batch holding it. */
    volatile long maxTimestamp = -1L;
    volatile long maxTimestampBatchPosition = -1L;
    private volatile int indexEntries;
    private volatile int timeEntries;
    private long lastIndexedPosition;
    /** Largest max timestamp of the batches appended so far (drives time index entries). */
    private long runningMaxTimestamp = -1L;
    private long lastTimeIndexTs = -1L;
    /** Recovery found index entries that disagreed with the log and rewrote them. */
    boolean indexRebuilt;
    /** Rolled (or opened as an older segment): indexes trimmed and read-only. Under the partition's monitor. */
    private volatile boolean sealed;

    private final AtomicInteger refs = new AtomicInteger(1);
    private volatile boolean deleted;

    private Segment(long baseOffset, Path dir, long createdMs) throws IOException {
        this.baseOffset = baseOffset;
        this.logPath = dir.resolve(fileName(baseOffset, ".log"));
        this.indexPath = dir.resolve(fileName(baseOffset, ".index"));
        this.timeIndexPath = dir.resolve(fileName(baseOffset, ".timeindex"));
        this.createdMs = createdMs;
        this.log = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        Arena arena = Arena.ofShared();
        Indexes ix;
        try {
            ix = new Indexes(arena, mapForAppend(indexPath, arena), mapForAppend(timeIndexPath, arena), true);
        } catch (IOException e) { // a full disk cannot extend the sparse files: keep the indexes in memory for now
            arena.close();
            ix = Indexes.onHeap();
            LOG.log(System.Logger.Level.INFO, "keeping the indexes of " + logPath + " in memory: " + e);
        } catch (RuntimeException e) {
            arena.close();
            log.close();
            throw e;
        }
        this.indexes = ix;
        this.nextOffset = baseOffset;
        this.writtenEnd = log.size();
    }

    /** Opens (creating if needed) the segment starting at {@code baseOffset} in {@code dir}; the caller then replays it with {@link #recover}. */
    static Segment open(Path dir, long baseOffset, long nowMs) {
        try {
            return new Segment(baseOffset, dir, nowMs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open segment " + baseOffset + " in " + dir, e);
        }
    }

    static String fileName(long baseOffset, String suffix) {
        return String.format("%020d%s", baseOffset, suffix);
    }

    /**
     * Index mappings in one arena, reference-counted: the segment holds one reference, a lookup takes one
     * for its duration, so {@link #seal} can swap them while lookups still read the old ones.
     */
    private static final class Indexes {
        final Arena arena;
        final MemorySegment offsets;
        final MemorySegment times;
        /** False for indexes kept on the heap because the files could not be grown or their pages faulted (a full disk). */
        final boolean mapped;
        private final AtomicInteger refs = new AtomicInteger(1);

        Indexes(Arena arena, MemorySegment offsets, MemorySegment times, boolean mapped) {
            this.arena = arena;
            this.offsets = offsets;
            this.times = times;
            this.mapped = mapped;
        }

        static Indexes onHeap() {
            return new Indexes(null, MemorySegment.ofArray(new byte[INDEX_BYTES]), MemorySegment.ofArray(new byte[INDEX_BYTES]), false);
        }

        boolean retain() {
            while (true) {
                int r = refs.get();
                if (r <= 0) return false;
                if (refs.compareAndSet(r, r + 1)) return true;
            }
        }

        void release() {
            if (refs.decrementAndGet() == 0 && arena != null) arena.close();
        }
    }

    /** The current mappings, pinned; the caller releases them. */
    private Indexes acquire() {
        while (true) {
            Indexes ix = indexes;
            if (ix.retain()) return ix;
            if (ix == indexes) throw new IllegalStateException("segment " + logPath + " is closed"); // callers pin the segment first
        }
    }

    private static MemorySegment mapForAppend(Path path, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (ch.size() > INDEX_BYTES) ch.truncate(INDEX_BYTES);
            if (ch.size() < INDEX_BYTES) { // sparse: costs no disk until written
                ch.write(ByteBuffer.wrap(new byte[1]), INDEX_BYTES - 1);
            }
            return ch.map(FileChannel.MapMode.READ_WRITE, 0, INDEX_BYTES, arena);
        }
    }

    // ---- reference counting ------------------------------------------------------------------

    /** Pins the segment; false if it is already being deleted or closed. */
    boolean retain() {
        while (true) {
            int r = refs.get();
            if (r <= 0) return false;
            if (refs.compareAndSet(r, r + 1)) return true;
        }
    }

    void release() {
        if (refs.decrementAndGet() == 0) closeNow();
    }

    /** Drops the owner's reference: closes now or when the last fetch releases it. */
    void close() {
        release();
    }

    /** Deletes the files (at once: open channels keep working on Linux) and drops the owner's reference. */
    void delete() {
        deleted = true;
        try {
            deleteFiles(logPath.getParent(), baseOffset);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete segment " + logPath, e);
        }
        release();
    }

    /**
     * Deletes a segment's files, the indexes first: a crash in between leaves a log without indexes (rebuilt), never
     * indexes without their log, which recovery takes for a lost log file.
     */
    static void deleteFiles(Path dir, long baseOffset) throws IOException {
        Files.deleteIfExists(dir.resolve(fileName(baseOffset, ".index")));
        Files.deleteIfExists(dir.resolve(fileName(baseOffset, ".timeindex")));
        Files.deleteIfExists(dir.resolve(fileName(baseOffset, ".log")));
    }

    boolean isDeleted() {
        return deleted;
    }

    private void closeNow() {
        indexes.release();
        try {
            log.close();
        } catch (IOException e) {
            // nothing left to do with it
        }
    }

    /** Forces made, not skipped as covered: for tests. */
    int forcesMade() {
        synchronized (forcing) {
            return forces;
        }
    }

    /** Forces the log file to disk: its bytes and its length (after {@link #trimZeroZone}). */
    void force() throws IOException {
        force(false);
    }

    /**
     * Makes the batches appended so far durable, unless a force that began after they were written already did: when
     * several event loops end their rounds on the same file, the later ones usually find their appends covered by
     * the force they waited behind, and skip theirs.
     */
    void forceAppends() throws IOException {
        force(true);
    }

    /**
     * Several threads force the same file (event loops ending their rounds, the writer thread), and Linux reports a
     * lost write-back to only one {@code fsync} of the file: so forces take turns, and once one failed every later
     * one fails too, so that no append written before the failure is acknowledged by another thread's force.
     */
    private void force(boolean unlessCovered) throws IOException {
        synchronized (forcing) {
            if (forceFailure != null) throw new IOException("an earlier force of " + logPath + " failed", forceFailure);
            long appended = size; // every batch appended before this call lies below it
            if (unlessCovered && appended <= forcedSize) return;
            try {
                log.force(false);
                forces++;
                forcedSize = appended;
            } catch (ClosedChannelException e) {
                throw e; // closed (deleted, engine closed): not a write-back failure
            } catch (IOException e) {
                forceFailure = e;
                throw e;
            }
        }
    }

    // ---- appending (under the partition's monitor) ---------------------------------------------

    boolean indexFull() {
        return (indexEntries + 1) * (long) OFFSET_ENTRY > INDEX_BYTES || (timeEntries + 1) * (long) TIME_ENTRY > INDEX_BYTES;
    }

    /** Writes a whole batch at the end; indexes it; publishes the new size last. */
    void append(ByteBuffer batch, long base, long next, long maxTs) throws IOException {
        long pos = size;
        int len = batch.remaining();
        while (batch.hasRemaining()) log.write(batch, pos + (len - batch.remaining()));
        indexBatch(pos, base, next, len, maxTs, false);
        size = pos + len;
        writtenEnd = Math.max(writtenEnd, size);
    }

    /**
     * Keeps a zone of written zeros ahead of the end, so that appends overwrite blocks the file already has: on ext4 an
     * fdatasync that grows the file also journals its new size and extents and costs about twice one that only
     * overwrites (fallocate'd extents are no better, they are flagged unwritten). Once the appends have reached the
     * zone's end, writes as many more zeros as the segment holds, between {@link #MIN_ZERO_ZONE_CHUNK} and
     * {@link #ZERO_ZONE_CHUNK} (so a quiet partition holds few zeros; not past {@code limit}, the roll size); the next force
     * makes them durable with the data, so only one force per chunk grows the file. Readers never look past
     * {@link #size}; {@link #trimZeroZone} drops the zeros on roll and close, and recovery stops at them (a zero batch
     * length is invalid).
     */
    void extendZeroZone(long limit) throws IOException {
        long from = size;
        long to = Math.min(from + Math.clamp(from, MIN_ZERO_ZONE_CHUNK, ZERO_ZONE_CHUNK), limit);
        if (from < writtenEnd || to <= from) return;
        ByteBuffer zeros = Zeros.BUFFER.duplicate();
        for (long at = from; at < to; ) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), to - at));
            while (zeros.hasRemaining()) at += log.write(zeros, at);
        }
        writtenEnd = to;
    }

    /**
     * {@link #extendZeroZone}, but only an optimisation: if writing the zeros fails (a full disk may refuse
     * 4 MiB that it would not refuse the next batch), the file is cut back to its batches and the append that
     * was already written stands; the next append tries again.
     */
    void extendZeroZoneOrTrim(long limit) {
        try {
            extendZeroZone(limit);
        } catch (IOException e) {
            try {
                trimZeroZone();
            } catch (IOException ignored) {
                // the zeros stay; recovery stops at them
            }
        }
    }

    /** Cuts the file back to its batches (before a roll's or a clean close's force), so that only the active segment of a running log has a zero tail. */
    void trimZeroZone() throws IOException {
        if (log.size() > size) log.truncate(size);
        writtenEnd = size;
    }

    /**
     * One read-only direct buffer of zeros for every segment, allocated on first use: direct, so writes need no copy;
     * a sixteenth of a chunk, so it costs 256 KiB of resident memory rather than 4 MiB, for 16 writes per chunk.
     */
    private static final class Zeros {
        static final ByteBuffer BUFFER = ByteBuffer.allocateDirect(ZERO_ZONE_CHUNK / 16).asReadOnlyBuffer();
    }

    /**
     * Indexes the batch at {@code pos} (appending, or replaying in recovery, where entries already on disk are
     * compared and rewritten if they disagree).
     */
    void indexBatch(long pos, long base, long next, int len, long maxTs, boolean replay) {
        if (pos > 0 && pos - lastIndexedPosition >= INDEX_INTERVAL && !indexFull()) {
            int rel = (int) (base - baseOffset);
            boolean timeEntry = runningMaxTimestamp > lastTimeIndexTs;
            try {
                writeEntries(rel, pos, timeEntry, replay);
            } catch (InternalError e) { // a page of a sparse mapped file faulted: no space left to back it
                moveIndexesToHeap(e);
                writeEntries(rel, pos, timeEntry, replay);
            }
            if (timeEntry) {
                lastTimeIndexTs = runningMaxTimestamp;
                timeEntries = timeEntries + 1;
            }
            lastIndexedPosition = pos;
            indexEntries = indexEntries + 1;
        }
        if (maxTs > runningMaxTimestamp) {
            runningMaxTimestamp = maxTs;
            maxTimestampBatchPosition = pos;
            maxTimestamp = maxTs;
        }
        nextOffset = next;
    }

    /** Writes the next entries (the time entry first, if due); changes no count, so a faulting write can be retried. */
    private void writeEntries(int rel, long pos, boolean timeEntry, boolean replay) {
        MemorySegment index = indexes.offsets; // writer-owned while active: no pin needed
        MemorySegment timeIndex = indexes.times;
        if (timeEntry) {
            long at = (long) timeEntries * TIME_ENTRY;
            if (replay && (timeIndex.get(LONG, at) != runningMaxTimestamp || timeIndex.get(INT, at + 8) != rel)) indexRebuilt = true;
            timeIndex.set(LONG, at, runningMaxTimestamp);
            timeIndex.set(INT, at + 8, rel);
        }
        long at = (long) indexEntries * OFFSET_ENTRY;
        if (replay && (index.get(INT, at) != rel || index.get(INT, at + 4) != (int) pos)) indexRebuilt = true;
        index.set(INT, at, rel);
        index.set(INT, at + 4, (int) pos);
    }

    /**
     * A full disk made a page of a mapped index fault ({@link InternalError}: tmpfs even on reading a hole): from now on
     * the indexes live on the heap (2 MiB), copied from the entries written so far, whose pages exist. They reach the
     * files when the segment is sealed ({@link #seal}), or are rebuilt from the log at the next open.
     */
    private void moveIndexesToHeap(InternalError cause) {
        Indexes old = indexes;
        if (!old.mapped) throw cause;
        Indexes heap = Indexes.onHeap();
        MemorySegment.copy(old.offsets, 0, heap.offsets, 0, (long) indexEntries * OFFSET_ENTRY);
        MemorySegment.copy(old.times, 0, heap.times, 0, (long) timeEntries * TIME_ENTRY);
        indexes = heap;
        old.release();
        indexRebuilt = true;
        LOG.log(System.Logger.Level.INFO, "keeping the indexes of " + logPath + " in memory: a mapped page faulted (" + cause.getMessage() + ")");
    }

    /** After a replay: clears stale entries beyond the rebuilt ones and fixes the size. */
    void finishRecovery(long validSize) throws IOException {
        try {
            clearStaleEntries();
        } catch (InternalError e) {
            moveIndexesToHeap(e); // the heap copy has no stale entries
        }
        if (log.size() != validSize) log.truncate(validSize);
        size = validSize;
        writtenEnd = validSize;
    }

    private void clearStaleEntries() {
        MemorySegment index = indexes.offsets;
        MemorySegment timeIndex = indexes.times;
        for (long at = (long) indexEntries * OFFSET_ENTRY; at + OFFSET_ENTRY <= INDEX_BYTES; at += OFFSET_ENTRY) {
            if (index.get(LONG, at) == 0L) break;
            index.set(LONG, at, 0L);
            indexRebuilt = true;
        }
        for (long at = (long) timeEntries * TIME_ENTRY; at + TIME_ENTRY <= INDEX_BYTES; at += TIME_ENTRY) {
            if (timeIndex.get(LONG, at) == 0L && timeIndex.get(INT, at + 8) == 0) break;
            timeIndex.set(LONG, at, 0L);
            timeIndex.set(INT, at + 8, 0);
            indexRebuilt = true;
        }
    }

    /**
     * The segment will not grow any more (it rolled, or recovery found later segments): trims the index
     * files to their entries, maps them read-only in a fresh arena and lets the append-time arena close
     * once the lookups using it finish. Under the partition's monitor (or recovery).
     */
    void seal() throws IOException {
        if (sealed) return;
        Indexes old = indexes;
        long offsetBytes = (long) indexEntries * OFFSET_ENTRY;
        long timeBytes = (long) timeEntries * TIME_ENTRY;
        Arena arena = Arena.ofShared();
        try {
            if (old.mapped) {
                old.offsets.asSlice(0, offsetBytes).force();
                old.times.asSlice(0, timeBytes).force();
            } else {
                writeIndexFile(indexPath, old.offsets, offsetBytes);
                writeIndexFile(timeIndexPath, old.times, timeBytes);
            }
            indexes = new Indexes(arena, mapSealed(indexPath, offsetBytes, arena), mapSealed(timeIndexPath, timeBytes, arena), true);
        } catch (IOException | RuntimeException e) {
            arena.close();
            if (old.mapped) throw e;
            // still no space for the files: a right-sized heap copy serves until the next open rebuilds them
            indexes = new Indexes(null, MemorySegment.ofArray(old.offsets.asSlice(0, offsetBytes).toArray(ValueLayout.JAVA_BYTE)),
                    MemorySegment.ofArray(old.times.asSlice(0, timeBytes).toArray(ValueLayout.JAVA_BYTE)), false);
            sealed = true;
            old.release();
            return;
        }
        sealed = true;
        old.release();
    }

    /** Writes the first {@code bytes} of a heap index to its file (sealing after a full disk moved it to the heap). */
    private static void writeIndexFile(Path path, MemorySegment entries, long bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ByteBuffer b = entries.asSlice(0, bytes).asByteBuffer();
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    private static MemorySegment mapSealed(Path path, long bytes, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(bytes);
            return bytes == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
        }
    }

    boolean isSealed() {
        return sealed;
    }

    // ---- lookups (any thread, segment retained) ----------------------------------------------

    /** Position of the last indexed batch starting at or before {@code offset} (0 if none). */
    long positionFor(long offset) {
        long rel = offset - baseOffset;
        int lo = 0;
        int hi = indexEntries - 1;
        long pos = 0;
        Indexes ix = acquire();
        try {
            MemorySegment index = ix.offsets;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long at = (long) mid * OFFSET_ENTRY;
                if (index.get(INT, at) <= rel) {
                    pos = index.get(INT, at + 4);
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
        } finally {
            ix.release();
        }
        return pos;
    }

    /** An offset from which to scan for the first batch with a timestamp {@code >= ts}: every batch before it is older. */
    long offsetForTimestamp(long ts) {
        int lo = 0;
        int hi = timeEntries - 1;
        long offset = baseOffset;
        Indexes ix = acquire();
        try {
            MemorySegment timeIndex = ix.times;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long at = (long) mid * TIME_ENTRY;
                if (timeIndex.get(LONG, at) < ts) {
                    offset = baseOffset + timeIndex.get(INT, at + 8);
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
        } finally {
            ix.release();
        }
        return offset;
    }

    int indexEntries() {
        return indexEntries;
    }

    int timeIndexEntries() {
        return timeEntries;
    }
}
