package kiri.transport;

import static kiri.transport.Frames.LOG;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A listening socket that turns length-prefixed request frames into {@link RequestHandler} calls
 * and writes their responses back in request order.
 *
 * <p>Threads: one acceptor (blocking {@code accept}) hands sockets round-robin to
 * {@link ServerConfig#eventLoops()} selector threads; each connection lives on one event loop for
 * its whole life, and its handler calls, reads and writes all happen there. Why selector loops and
 * not a virtual thread per connection: see the module README.
 *
 * <p>Lifetime: {@link #start} binds and starts the threads; {@link #close()} stops accepting, lets
 * in-flight requests finish for up to {@link ServerConfig#shutdownTimeout()}, then closes every
 * connection and joins the threads. The threads are not daemons: an open server keeps the JVM up.
 */
public final class Server implements AutoCloseable {
    private static final int BACKLOG = 128;
    /** How long accepting pauses after {@code accept} failed (e.g. out of file descriptors). */
    static final long ACCEPT_BACKOFF_MS = 100;

    private final ServerConfig config;
    private final ServerSocketChannel listener;
    private final InetSocketAddress localAddress;
    private final BufferPool pool;
    private final boolean ownsPool;
    private final EventLoop[] loops;
    private final RequestBudget budget;
    private final Thread acceptor;
    private final AtomicBoolean closed = new AtomicBoolean();
    private long nextId;

    private Server(ServerConfig config, ServerSocketChannel listener, InetSocketAddress localAddress)
            throws IOException {
        this.config = config;
        this.listener = listener;
        this.localAddress = localAddress;
        this.ownsPool = config.pool() == null;
        this.pool = ownsPool ? new BufferPool() : config.pool();
        this.loops = new EventLoop[config.eventLoops()];
        this.budget = config.requestBudget() != null ? config.requestBudget() : RequestBudget.of(config.maxQueuedRequestBytes());
        int port = localAddress.getPort();
        try {
            for (int i = 0; i < loops.length; i++) {
                loops[i] = new EventLoop(config, pool, budget, "kiri-loop-" + port + "-" + i);
            }
        } catch (IOException | RuntimeException e) {
            for (EventLoop loop : loops) {
                if (loop != null) {
                    loop.terminate();
                }
            }
            if (ownsPool) {
                pool.close();
            }
            throw e;
        }
        for (EventLoop loop : loops) {
            loop.start();
        }
        this.acceptor = Thread.ofPlatform().name("kiri-acceptor-" + port).start(this::acceptLoop);
    }

    /**
     * Binds and starts the server.
     *
     * @throws BindException "cannot listen on HOST:PORT: Address already in use" and the like
     * @throws UnknownHostException if the bind host does not resolve
     */
    public static Server start(ServerConfig config) throws IOException {
        InetSocketAddress address = config.bindAddress();
        String where = address.getHostString() + ":" + address.getPort();
        if (address.isUnresolved()) {
            throw new UnknownHostException("cannot listen on " + where + ": unknown host");
        }
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            // Lets a restarted broker rebind while old connections sit in TIME_WAIT; a live
            // listener on the port still fails the bind.
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(address, BACKLOG);
            InetSocketAddress local = (InetSocketAddress) listener.getLocalAddress();
            Server server = new Server(config, listener, local);
            LOG.log(Level.DEBUG, "listening on {0} with {1} event loops", local, config.eventLoops());
            return server;
        } catch (BindException e) {
            close(listener);
            BindException clear = new BindException("cannot listen on " + where + ": " + e.getMessage());
            clear.initCause(e);
            throw clear;
        } catch (IOException | RuntimeException e) {
            close(listener);
            throw e;
        }
    }

    /** The bound address, with the actual port when port 0 was requested. */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** The pool request frames are read into (the configured one, or the server's own). */
    public BufferPool pool() {
        return pool;
    }

    /**
     * Bytes of request frames held now in this server's {@code queued.max.request.bytes} budget (with a shared
     * budget, by every server sharing it); a snapshot.
     */
    public long queuedRequestBytes() {
        return budget.reserved();
    }

    /** Open connections; a snapshot for monitoring. */
    public int connectionCount() {
        int n = 0;
        for (EventLoop loop : loops) {
            n += loop.connectionCount();
        }
        return n;
    }

    /**
     * Graceful: stop accepting, stop reading new requests, let in-flight requests finish and their
     * responses be written (bounded by {@link ServerConfig#shutdownTimeout()}), close connections,
     * join the threads, and close the pool if the server created it. Idempotent; must not be called
     * from a handler (it waits for the event loops).
     */
    @Override
    public void close() {
        for (EventLoop loop : loops) {
            if (loop.inLoop()) {
                throw new IllegalStateException("Server.close() must not be called on an event-loop thread");
            }
        }
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        close(listener); // wakes the acceptor with AsynchronousCloseException
        join(acceptor, TimeUnit.SECONDS.toNanos(5));
        for (EventLoop loop : loops) {
            loop.drain();
        }
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        for (EventLoop loop : loops) {
            join(loop.thread(), deadline - System.nanoTime());
        }
        for (EventLoop loop : loops) {
            if (loop.thread().isAlive()) {
                LOG.log(Level.WARNING, "{0}: requests still in flight after {1}, closing their connections",
                        loop.thread().getName(), config.shutdownTimeout());
                loop.terminate();
            }
        }
        for (EventLoop loop : loops) {
            join(loop.thread(), TimeUnit.SECONDS.toNanos(5));
        }
        if (ownsPool) {
            pool.close();
        }
        LOG.log(Level.DEBUG, "stopped listening on {0}", localAddress);
    }

    /**
     * Accepts until {@link #close()}. Nothing else ends it: a failing {@code accept} (EMFILE when the process is out
     * of file descriptors, ENOBUFS, an {@link Error} from a handshake or a logger) pauses accepting for
     * {@link #ACCEPT_BACKOFF_MS} and tries again, as Kafka's and Netty's acceptors do; pending connections wait in the
     * listen backlog meanwhile.
     */
    private void acceptLoop() {
        while (listener.isOpen()) {
            try {
                SocketChannel channel = listener.accept();
                try {
                    hand(channel);
                } catch (Throwable t) {
                    close(channel);
                    throw t;
                }
            } catch (ClosedChannelException e) {
                return; // close()
            } catch (Throwable t) {
                if (!listener.isOpen()) {
                    return;
                }
                LOG.log(Level.WARNING, "accept on {0} failed, pausing accepts for {1} ms: {2}",
                        localAddress, ACCEPT_BACKOFF_MS, t.toString());
                try {
                    Thread.sleep(ACCEPT_BACKOFF_MS);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Configures an accepted socket and gives it to the next event loop (round-robin). */
    private void hand(SocketChannel channel) {
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "dropping accepted socket: {0}", e.getMessage());
            close(channel);
            return;
        }
        long id = ++nextId;
        loops[(int) (id % loops.length)].adopt(channel, id);
    }

    private static void join(Thread thread, long nanos) {
        if (nanos <= 0 || thread == Thread.currentThread()) {
            return;
        }
        try {
            thread.join(TimeUnit.NANOSECONDS.toMillis(nanos) + 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes a socket, channel or selector we are discarding. */
    static void close(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // nothing left to do with a channel we are discarding
        }
    }

    @Override
    public String toString() {
        return "Server[" + localAddress + "]";
    }
}
