package kiri.proxy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import kiri.transport.BufferPool;
import kiri.transport.ServerConfig;

/**
 * Connections to origin brokers: new ones, and idle ones handed back when their client connection
 * closed with nothing in flight, so a client that reconnects often does not cost the origin a TCP
 * handshake each time.
 *
 * <p>Thread-safe. Idle connections are kept at most {@link #MAX_IDLE_PER_ORIGIN} per origin and
 * for at most {@link #MAX_IDLE} (brokers close idle connections after 10 minutes by default; a
 * connection closed by the origin while idle is noticed by its reader and skipped).
 */
final class OriginPool implements AutoCloseable {
    static final int MAX_IDLE_PER_ORIGIN = 16;
    static final Duration MAX_IDLE = Duration.ofMinutes(5);

    private record Idle(OriginIo.Connection connection, long since) {
    }

    private final ConcurrentHashMap<Endpoint, ConcurrentLinkedDeque<Idle>> idle = new ConcurrentHashMap<>();
    private final OriginIo io;
    private final Duration connectTimeout;
    private volatile boolean closed;

    OriginPool(BufferPool buffers, Duration connectTimeout, int ioThreads) throws java.io.IOException {
        this.io = new OriginIo(ioThreads, buffers, ServerConfig.DEFAULT_MAX_FRAME_SIZE);
        this.connectTimeout = connectTimeout;
    }

    /** An open connection to {@code origin}: a recently idle one, else a new one (blocks to connect). */
    OriginIo.Connection borrow(Endpoint origin) throws IOException {
        ConcurrentLinkedDeque<Idle> list = idle.get(origin);
        if (list != null) {
            long now = System.nanoTime();
            Idle candidate;
            while ((candidate = list.pollFirst()) != null) {
                if (candidate.connection().isOpen() && now - candidate.since() < MAX_IDLE.toNanos()) {
                    return candidate.connection();
                }
                candidate.connection().close();
            }
        }
        if (closed) {
            throw new IOException("proxy is closing");
        }
        return io.connect(origin.resolve(), connectTimeout);
    }

    /** Takes back a connection with nothing in flight; closes it if the pool is full or closed. */
    void giveBack(Endpoint origin, OriginIo.Connection connection) {
        if (closed || !connection.isOpen()) {
            connection.close();
            return;
        }
        ConcurrentLinkedDeque<Idle> list = idle.computeIfAbsent(origin, k -> new ConcurrentLinkedDeque<>());
        if (list.size() >= MAX_IDLE_PER_ORIGIN) {
            connection.close();
            return;
        }
        list.addFirst(new Idle(connection, System.nanoTime()));
        if (closed) {
            drain(list);
        }
    }

    /** Idle connections currently held (for tests and monitoring). */
    int idleCount() {
        return idle.values().stream().mapToInt(ConcurrentLinkedDeque::size).sum();
    }

    @Override
    public void close() {
        closed = true;
        idle.values().forEach(OriginPool::drain);
        io.close(); // closes the connections still lent out
    }

    private static void drain(ConcurrentLinkedDeque<Idle> list) {
        Idle i;
        while ((i = list.pollFirst()) != null) {
            i.connection().close();
        }
    }
}
