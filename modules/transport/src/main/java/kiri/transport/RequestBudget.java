package kiri.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request frames held at once, across all connections of the {@link Server}s that share it: Kafka's
 * {@code queued.max.request.bytes}, one budget for the whole broker (every listener), as Kafka's one memory pool.
 * A server gets its own unless {@link ServerConfig.Builder#requestBudget} hands it a shared one. A connection reserves
 * a frame's whole size as soon as it has read the frame's size prefix (before it allocates anything) and gives it
 * back when the handler's stage for that request completes.
 * A connection that cannot reserve stops reading (back-pressure: nothing fails) and its event loop is told, through
 * {@link EventLoop#memoryAvailable()}, when reservations are returned.
 *
 * <p>A frame is always admitted when nothing is reserved, as Kafka's non-strict memory pool does, so a frame larger
 * than the budget (but within {@code socket.request.max.bytes}) is still served, alone. Reservations are all or
 * nothing, so connections waiting for memory hold none and cannot deadlock each other.
 *
 * <p>Thread-safe: reserved on event loops, returned from any thread.
 */
public final class RequestBudget {
    private final long max;
    private final AtomicLong reserved = new AtomicLong();
    /** Loops with connections waiting for memory. */
    private final Set<EventLoop> waiting = ConcurrentHashMap.newKeySet();

    /** @param max bytes of request frames held at once; {@code Long.MAX_VALUE} for no limit */
    private RequestBudget(long max) {
        this.max = max;
    }

    /**
     * A budget of {@code queuedMaxRequestBytes}, Kafka's {@code queued.max.request.bytes}: -1 for no limit.
     *
     * @throws IllegalArgumentException for 0 or below -1
     */
    public static RequestBudget of(long queuedMaxRequestBytes) {
        if (queuedMaxRequestBytes < -1 || queuedMaxRequestBytes == 0) {
            throw new IllegalArgumentException("queued.max.request.bytes must be > 0 or -1, got " + queuedMaxRequestBytes);
        }
        return new RequestBudget(queuedMaxRequestBytes < 0 ? Long.MAX_VALUE : queuedMaxRequestBytes);
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
    public long reserved() {
        return reserved.get();
    }

    /** The limit; {@code Long.MAX_VALUE} for none. */
    public long max() {
        return max;
    }
}
