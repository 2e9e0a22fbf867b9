package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import kiri.metrics.Histogram;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;

/**
 * The engine's writer thread, and group commit. With fsync=always, appends are made durable in groups, in two ways:
 * <ul>
 * <li>A thread that ends rounds ({@link #endRound}: an event loop, after each round of ready connections) writes its
 * appends itself as it assigns them, and at the end of the round forces each file the round wrote, once, then
 * publishes the new high watermarks and completes the round's futures, on that thread. No hand-off: a hand-off to
 * another thread and back costs two thread wake-ups per round, about as much CPU as the rest of the produce path.
 * <li>Appends from any other thread are queued to this thread, which takes every append queued since its last
 * round, writes each, forces each file written once for the whole round, and then publishes and completes them
 * (callers hop to their own executors if they care).
 * </ul>
 * Either way many appends share one {@code force}: the more producers wait, the larger the group.
 *
 * <p>With fsync=never and interval:MS nothing waits for a force, so the thread that assigns a batch its offsets
 * writes it too ({@link #writesInline}) and acknowledges it at once ({@link #acknowledge}). This thread then only
 * forces, every MS, the files written since its last force (interval); with never the partitions force their
 * files on close.
 */
final class Writer implements Runnable {
    private static final System.Logger LOG = System.getLogger(Writer.class.getName());

    /**
     * A batch to write (or, with a null batch, a retried duplicate to acknowledge in order);
     * {@code closesTxnAt}: for a transaction marker, the first offset of the transaction it ends, else -1.
     */
    record Append(PartitionLog partition, MemorySegment batch, long base, long next, CompletableFuture<Void> future,
                  long closesTxnAt) {}

    private static final Append STOP = new Append(null, null, 0, 0, null, -1L);
    private static final int MAX_GROUP = 4096;

    private final LinkedBlockingQueue<Append> queue = new LinkedBlockingQueue<>();
    /** Segments written and not forced since: by this thread (always), or by inline writers (interval). */
    private final Set<Segment> dirty = ConcurrentHashMap.newKeySet();
    private final FsyncMode mode;
    private final InstantSource clock;
    private final Thread thread;
    private volatile boolean stopping;
    /** The round of the calling thread, once it has ended one (fsync=always). */
    private final ThreadLocal<Round> rounds = new ThreadLocal<>();
    private final Set<Round> allRounds = ConcurrentHashMap.newKeySet();
    /** Rounds that forced at least once, and appends written: group commit's effect, for tests. */
    final LongAdder forceRounds = new LongAdder();
    final LongAdder appendsWritten = new LongAdder();
    /** How long each file's force took, and how many appends each forcing round made durable (the metrics). */
    final Histogram fsyncNanos = Histogram.fsyncLatency();
    final Histogram roundAppends = Histogram.counts();

    /** What a round thread wrote since its last {@link #endRound}; guarded by itself (stop() may take it over). */
    private static final class Round {
        List<Append> appends = new ArrayList<>();
        Set<Segment> dirty = Collections.newSetFromMap(new IdentityHashMap<>());
    }

    Writer(FsyncMode mode, InstantSource clock, String name) {
        this.mode = mode;
        this.clock = clock;
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this);
    }

    void start() {
        thread.start();
    }

    /**
     * True when the calling thread writes the appends it assigns (under the partition's monitor): with fsync=never and
     * interval:MS any thread, with fsync=always a thread that ends rounds. Otherwise they are {@link #submit}ted.
     */
    boolean writesInline() {
        return !(mode instanceof FsyncMode.Always) || (rounds.get() != null && !stopping);
    }

    /**
     * The calling thread wrote {@code a}, which a force of {@code s} makes durable ({@link PartitionLog#write}): with
     * fsync=always it waits for the thread's round, with interval:MS the next interval force covers it.
     */
    void written(Append a, Segment s) {
        if (a.batch() != null) appendsWritten.increment();
        if (mode instanceof FsyncMode.Always) {
            Round r = rounds.get();
            synchronized (r) {
                r.appends.add(a);
                r.dirty.add(s);
            }
        } else if (mode instanceof FsyncMode.Interval && a.batch() != null) {
            dirty.add(s);
        }
    }

    /**
     * Ends the calling thread's round (fsync=always): forces the files its appends since the last call went to, once
     * each, then publishes and completes them, here. The first call makes the thread a round thread: from then on its
     * appends wait for its next call, so it must keep calling this after every round. Other modes: nothing to do.
     */
    void endRound() {
        if (!(mode instanceof FsyncMode.Always)) return;
        Round r = rounds.get();
        if (r == null) {
            r = new Round();
            rounds.set(r);
            allRounds.add(r);
        }
        while (commit(r)) {
            // completing the round ran callbacks, which may have appended again: end those too
        }
    }

    /** Forces, publishes and completes what {@code r} holds; false if it held nothing. */
    private boolean commit(Round r) {
        List<Append> appends;
        Set<Segment> written;
        synchronized (r) {
            if (r.appends.isEmpty()) return false;
            appends = r.appends;
            written = r.dirty;
            r.appends = new ArrayList<>();
            r.dirty = Collections.newSetFromMap(new IdentityHashMap<>());
        }
        Throwable[] failures = new Throwable[appends.size()];
        Throwable forceFailure = forceAll(written);
        forceRounds.increment();
        roundAppends.record(appends.size());
        if (forceFailure != null) Arrays.fill(failures, forceFailure);
        publish(appends, failures);
        return true;
    }

    /**
     * The future of an assigned append. One written inline is published and completed here, on the caller's thread:
     * call this holding no monitor, since completing it wakes fetches waiting for the data. One queued to this thread
     * completes once its round is durable.
     */
    CompletableFuture<Void> acknowledge(Append a) {
        // done already: failed, or nothing to write (a marker for a partition that is gone)
        if (!(mode instanceof FsyncMode.Always) && !a.future().isDone()) {
            // what publish does for a group, for one append, without the group's allocations (once per batch)
            a.partition().publish(a);
            a.partition().signal();
            a.future().complete(null);
        }
        return a.future();
    }

    /** Queues an append (fsync=always); never blocks. Called under the partition's monitor (so per-partition order is offset order). */
    void submit(Append a) {
        if (stopping) {
            a.future().completeExceptionally(new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "storage is closed"));
            return;
        }
        queue.add(a);
    }

    /** Writes and forces what is queued and what round threads wrote, then stops the thread. */
    void stop() {
        stopping = true;
        queue.add(STOP);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Round r : allRounds) commit(r); // written by round threads that will not end their round now
        failQueued(); // a submit that raced with stop()
    }

    private void failQueued() {
        Append a;
        while ((a = queue.poll()) != null) {
            if (a.future() != null) a.future().completeExceptionally(new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "storage is closed"));
        }
    }

    @Override
    public void run() {
        List<Append> group = new ArrayList<>();
        // Interval flushes run on the monotonic clock; the engine clock (which tests move) only drives segment.ms.
        long intervalMs = mode instanceof FsyncMode.Interval i ? i.ms() : 0L;
        long nextForce = intervalMs > 0 ? monotonicMs() + intervalMs : Long.MAX_VALUE;
        boolean stop = false;
        while (!stop) {
            Append first;
            try {
                if (intervalMs > 0) first = queue.poll(Math.max(1L, nextForce - monotonicMs()), TimeUnit.MILLISECONDS);
                else first = queue.take();
            } catch (InterruptedException e) {
                continue; // only stop() ends the thread, after the queue drained
            }
            if (first != null) {
                group.add(first);
                queue.drainTo(group, MAX_GROUP);
            }
            try {
                long now = clock.millis();
                Throwable[] failures = new Throwable[group.size()];
                for (int i = 0; i < group.size(); i++) {
                    Append a = group.get(i);
                    if (a == STOP) {
                        stop = true;
                        continue;
                    }
                    try {
                        dirty.add(a.partition().writeQueued(a, now));
                        if (a.batch() != null) appendsWritten.increment();
                    } catch (Throwable e) { // an Error too (a fault on a mapped file is an InternalError): this append only
                        failures[i] = e;
                    }
                }
                long mono = monotonicMs();
                boolean due = intervalMs > 0 && mono >= nextForce;
                boolean force = mode instanceof FsyncMode.Always || stop || due;
                if (force && !dirty.isEmpty()) {
                    Throwable forceFailure = forceAll(dirty);
                    forceRounds.increment();
                    roundAppends.record(group.size());
                    if (forceFailure != null) {
                        for (int i = 0; i < group.size(); i++) if (failures[i] == null) failures[i] = forceFailure;
                    }
                }
                if (due) nextForce = mono + intervalMs;
                publish(group, failures);
            } catch (Throwable t) {
                // This thread must not die: every append queued behind would wait forever. Fail this group's
                // appends (a completed future ignores it) and go on with the next; the partitions heal in housekeeping.
                stop |= group.contains(STOP);
                survive(group, t);
            } finally {
                group.clear();
            }
        }
        failQueued(); // anything queued after STOP
    }

    private static void survive(List<Append> group, Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "log writer round failed; failing its " + group.size() + " appends: " + t);
        for (Append a : group) {
            if (a == STOP) continue;
            try {
                if (a.partition() != null) a.partition().fail(a, "log writer failed: " + t); // healed in housekeeping
            } catch (Throwable ignored) {
                // the future below still tells the producer
            }
            if (a.future() != null) {
                a.future().completeExceptionally(new StorageException(ErrorCode.KAFKA_STORAGE_ERROR,
                        "log writer failed: " + t));
            }
        }
        try {
            Thread.sleep(100); // a fault that repeats must not spin the thread
        } catch (InterruptedException e) {
            // only stop() ends the thread
        }
    }

    private static long monotonicMs() {
        return System.nanoTime() / 1_000_000L;
    }

    private Throwable forceAll(Set<Segment> dirty) {
        Throwable failure = null;
        for (Iterator<Segment> it = dirty.iterator(); it.hasNext(); ) {
            Segment s = it.next();
            it.remove(); // before the force: a write that adds it again after this stays for the next round
            if (!s.retain()) {
                // deleted meanwhile: nobody will read it; closed with the engine: not known to be durable
                if (!s.isDeleted()) failure = new ClosedChannelException();
                continue;
            }
            try {
                long start = System.nanoTime();
                s.forceAppends();
                fsyncNanos.record(System.nanoTime() - start);
            } catch (IOException | RuntimeException | Error e) {
                failure = e;
            } finally {
                s.release();
            }
        }
        return failure;
    }

    private static void publish(List<Append> group, Throwable[] failures) {
        Set<PartitionLog> touched = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < group.size(); i++) {
            Append a = group.get(i);
            if (a == STOP) continue;
            if (failures[i] == null) {
                a.partition().publish(a);
                touched.add(a.partition());
            } else if (!(failures[i] instanceof StorageException)) {
                a.partition().fail(a, "write to " + a.partition().tp + " failed: " + failures[i]);
            }
        }
        for (PartitionLog p : touched) p.signal();
        for (int i = 0; i < group.size(); i++) {
            Append a = group.get(i);
            if (a == STOP) continue;
            if (failures[i] == null) a.future().complete(null);
            else a.future().completeExceptionally(writeFailure(a, failures[i]));
        }
    }

    /** What the producer of {@code a} is told when writing or forcing it failed with {@code failure}. */
    static StorageException writeFailure(Append a, Throwable failure) {
        return failure instanceof StorageException se ? se
                : new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "cannot write " + a.partition().tp + ": " + failure);
    }
}
