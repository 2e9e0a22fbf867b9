package kiri.coordinator;

import java.util.PriorityQueue;

/** A timer whose clock only moves when a test says so; due tasks run on the test's thread. */
final class ManualTimer implements Timer {
    private record Entry(long due, long seq, Runnable task, boolean[] cancelled) {
    }

    private final PriorityQueue<Entry> queue = new PriorityQueue<>(
            (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.seq, b.seq));
    private long now = 1_000_000L;
    private long seq;

    @Override
    public synchronized long nowMs() {
        return now;
    }

    @Override
    public synchronized Task schedule(long delayMs, Runnable task) {
        boolean[] cancelled = {false};
        queue.add(new Entry(now + Math.max(0, delayMs), seq++, task, cancelled));
        return () -> cancelled[0] = true;
    }

    /** Moves the clock forward, running every task that falls due, in order. */
    void advance(long ms) {
        long target;
        synchronized (this) {
            target = now + ms;
        }
        while (true) {
            Entry e;
            synchronized (this) {
                e = queue.peek();
                if (e == null || e.due > target) {
                    now = target;
                    return;
                }
                queue.poll();
                now = e.due;
            }
            if (!e.cancelled[0]) e.task.run();
        }
    }

    synchronized int pending() {
        int n = 0;
        for (Entry e : queue) if (!e.cancelled[0]) n++;
        return n;
    }
}
