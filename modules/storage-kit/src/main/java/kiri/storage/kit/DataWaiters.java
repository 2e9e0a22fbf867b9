package kiri.storage.kit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import kiri.storage.api.Storage;

/**
 * Long-poll support for one partition, shared by engines: {@link Storage#awaitData} registers a
 * future here and the append path calls {@link #signal()} after moving the partition's end. The append
 * path pays one volatile read when nobody waits.
 *
 * <p>Race-free without a lock on the append path: a waiter registers (volatile write) and then re-reads
 * the end; an appender moves the end (volatile write) and then reads the waiter count. Whichever
 * comes second sees the other, so no wake-up is lost. Futures complete on the signalling thread;
 * callers that care hop to their own executor. Thread-safe.
 */
public final class DataWaiters {
    private record Waiter(long offset, CompletableFuture<Void> future) {}

    private final LongSupplier end;
    private final List<Waiter> waiters = new ArrayList<>(); // guarded by this
    private volatile int count;

    /** @param end reads the partition's current fetchable end (e.g. its high watermark); must be cheap and non-blocking */
    public DataWaiters(LongSupplier end) {
        this.end = end;
    }

    /**
     * A future completed once the end passes {@code offset} (at once if it already has), or by
     * {@link #wakeAll()}. Cancelling it, or completing it with a timeout, unregisters it.
     */
    public CompletableFuture<Void> await(long offset) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (this) {
            waiters.add(new Waiter(offset, f));
            count = waiters.size();
        }
        if (end.getAsLong() > offset) f.complete(null);
        f.whenComplete((v, t) -> remove(f));
        return f;
    }

    /** Called after the end moved; cheap when nobody waits. */
    public void signal() {
        if (count == 0) return;
        long e = end.getAsLong();
        List<CompletableFuture<Void>> ready = null;
        synchronized (this) {
            for (int i = waiters.size() - 1; i >= 0; i--) {
                Waiter w = waiters.get(i);
                if (w.offset() < e || w.future().isDone()) {
                    waiters.remove(i);
                    if (ready == null) ready = new ArrayList<>();
                    ready.add(w.future());
                }
            }
            count = waiters.size();
        }
        if (ready != null) for (CompletableFuture<Void> f : ready) f.complete(null); // outside the lock: callbacks run here
    }

    /** Completes every waiter: the partition was deleted, truncated or the engine is closing, so waiters must re-fetch. */
    public void wakeAll() {
        List<Waiter> all;
        synchronized (this) {
            all = new ArrayList<>(waiters);
            waiters.clear();
            count = 0;
        }
        for (Waiter w : all) w.future().complete(null);
    }

    /** Number of registered waiters (for tests and metrics). */
    public int waiting() {
        return count;
    }

    private synchronized void remove(CompletableFuture<Void> f) {
        for (int i = waiters.size() - 1; i >= 0; i--) {
            if (waiters.get(i).future() == f) {
                waiters.remove(i);
                break;
            }
        }
        count = waiters.size();
    }
}
