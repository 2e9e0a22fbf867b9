package kiri.proxy;

import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import kiri.transport.BufferPool;
import kiri.transport.ServerConfig;

/**
 * Connections to origin brokers: new ones, and idle ones handed back when their client connection
 * closed with nothing in flight, so a client that reconnects often does not cost the origin a TCP
 * handshake each time. Idle connections are detached from any event loop; the next borrower's loop
 * serves them.
 *
 * <p>Thread-safe. Idle connections are kept at most {@link #MAX_IDLE_PER_ORIGIN} per origin and
 * for at most {@link #MAX_IDLE} (brokers close idle connections after 10 minutes by default; one
 * the origin closed while idle fails {@link OriginConnection#probe()} and is skipped).
 */
final class OriginPool implements AutoCloseable {
    static final int MAX_IDLE_PER_ORIGIN = 16;
    static final Duration MAX_IDLE = Duration.ofMinutes(5);

    private record Idle(OriginConnection connection, long since) {
    }

    private final ConcurrentHashMap<Endpoint, ConcurrentLinkedDeque<Idle>> idle = new ConcurrentHashMap<>();
    /** Every connection opened and not yet closed by the pool, so {@link #close()} reaches them all. */
    private final Set<OriginConnection> opened = ConcurrentHashMap.newKeySet();
    private final BufferPool buffers;
    private final Duration connectTimeout;
    private final OriginTls tls;
    private volatile boolean closed;

    /** @param tls TLS to the origins, or null */
    OriginPool(BufferPool buffers, Duration connectTimeout, OriginTls tls) {
        this.buffers = buffers;
        this.connectTimeout = connectTimeout;
        this.tls = tls;
    }

    /**
     * An open, detached connection to {@code origin}: a recently idle one, else a new one (blocks
     * to connect: call off event loops).
     */
    OriginConnection borrow(Endpoint origin) throws IOException {
        ConcurrentLinkedDeque<Idle> list = idle.get(origin);
        if (list != null) {
            long now = System.nanoTime();
            Idle candidate;
            while ((candidate = list.pollFirst()) != null) {
                if (now - candidate.since() < MAX_IDLE.toNanos() && candidate.connection().probe()) {
                    return candidate.connection();
                }
                discard(candidate.connection());
            }
        }
        if (closed) {
            throw new IOException("proxy is closing");
        }
        opened.removeIf(c -> !c.isOpen());
        OriginConnection c = OriginConnection.open(origin.resolve(), connectTimeout, tls, buffers,
                ServerConfig.DEFAULT_MAX_FRAME_SIZE);
        opened.add(c);
        if (closed) {
            discard(c);
            throw new IOException("proxy is closing");
        }
        return c;
    }

    /** Takes back a detached connection with nothing in flight; closes it if the pool is full or closed. */
    void giveBack(Endpoint origin, OriginConnection connection) {
        if (closed || !connection.isOpen()) {
            discard(connection);
            return;
        }
        ConcurrentLinkedDeque<Idle> list = idle.computeIfAbsent(origin, k -> new ConcurrentLinkedDeque<>());
        if (list.size() >= MAX_IDLE_PER_ORIGIN) {
            discard(connection);
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

    /** Closes idle connections and any still lent out (their in-flight requests fail). */
    @Override
    public void close() {
        closed = true;
        idle.values().forEach(this::drain);
        for (OriginConnection c : opened) {
            discard(c);
        }
    }

    private void discard(OriginConnection c) {
        c.close();
        opened.remove(c);
    }

    private void drain(ConcurrentLinkedDeque<Idle> list) {
        Idle i;
        while ((i = list.pollFirst()) != null) {
            discard(i.connection());
        }
    }
}
