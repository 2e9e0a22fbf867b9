package kiri.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request frames a {@link Server} holds at once, across all its connections: Kafka's
 * {@code queued.max.request.bytes}. A connection reserves a frame's whole size as soon as it has read the frame's
 * size prefix (before it allocates anything) and gives it back when the handler's stage for that request completes.
 * A connection that cannot reserve stops reading (back-pressure: nothing fails) and its event loop is told, through
 * {@link EventLoop#memoryAvailable()}, when reservations are returned.
 *
 * <p>A frame is always admitted when nothing is reserved, as Kafka's non-strict memory pool does, so a frame larger
 * than the budget (but within {@code socket.request.max.bytes}) is still served, alone. Reservations are all or
 * nothing, so connections waiting for memory hold none and cannot deadlock each other.
 *
 * <p>Thread-safe: reserved on event loops, returned from any thread.
 */
final class RequestBudget {
    private final long max;
    private final AtomicLong reserved = new AtomicLong();
    /** Loops with connections waiting for memory. */
    private final Set<EventLoop> waiting = ConcurrentHashMap.newKeySet();

    /** @param max bytes of request frames held at once; {@code Long.MAX_VALUE} for no limit */
    RequestBudget(long max) {
        this.max = max;
    }

    /** Reserves {@code bytes}, or returns false (then {@code loop} is woken when memory is returned). */
    boolean tryReserve(long bytes, EventLoop loop) {
        while (true) {
            long now = reserved.get();
            if (now != 0 && now + bytes > max) {
                waiting.add(loop);
                // returned between the check and the registration: nobody would wake the loop
                if (reserved.get() != now) {
                    continue;
                }
                return false;
            }
            if (reserved.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Returns a reservation and wakes the loops whose connections wait for memory. */
    void release(long bytes) {
        reserved.addAndGet(-bytes);
        if (!waiting.isEmpty()) {
            for (EventLoop loop : waiting) {
                waiting.remove(loop);
                loop.execute(loop::memoryAvailable);
            }
        }
    }

    /** Bytes reserved now (a snapshot, for tests and monitoring). */
    long reserved() {
        return reserved.get();
    }

    long max() {
        return max;
    }
}
