package kiri.transport;

import static kiri.transport.Frames.LOG;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One selector thread owning a set of {@link Connection}s. Everything a connection does happens on
 * this thread; other threads talk to it only through {@link #execute}, which queues a task and
 * wakes the selector.
 *
 * <p>Each iteration: run queued tasks, end the handler's round ({@link RequestHandler#endRound}), flush
 * connections that gained responses ("dirty"), block in
 * {@code select} until I/O, a task or the next idle check, then handle ready keys. Responses that
 * complete during one iteration leave in one gathering write per connection.
 *
 * <p>Handlers may register channels of their own ({@link LoopContext#register}); their listeners
 * run while ready keys are handled, and responses they complete are flushed at the top of the next
 * iteration, before the loop blocks again.
 */
final class EventLoop implements LoopContext {
    /** How long the loop pauses after an iteration failed unexpectedly (so a persistent failure cannot spin). */
    static final long FAILURE_BACKOFF_MS = 100;
    private final Selector selector;
    private final Thread thread;
    private final ServerConfig config;
    private final BufferPool pool;
    private final RequestBudget budget;
    /** Connections waiting for the budget to take their next frame, in the order they started waiting. */
    private final ArrayDeque<Connection> awaitingMemory = new ArrayDeque<>();
    /** Shared by all connections of this loop: bytes are parsed or copied out before the next read. */
    final ByteBuffer readBuffer = ByteBuffer.allocateDirect(Frames.READ_BUFFER_SIZE);
    final MemorySegment readSegment = MemorySegment.ofBuffer(readBuffer);
    final ByteBuffer[] gather = new ByteBuffer[Frames.MAX_GATHER];

    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** True while the loop may be blocked in select, so {@link #execute} must wake it. */
    private final AtomicBoolean wakeupNeeded = new AtomicBoolean();
    private final Set<Connection> connections = new HashSet<>();
    private final ArrayDeque<Connection> dirty = new ArrayDeque<>();
    private final long idleNanos;
    private final long idleCheckNanos;
    private long nextIdleCheck;
    private volatile int connectionCount;
    private boolean draining;
    private boolean stopping;
    /** True while ready keys are handled: the selected-key set must not change then. */
    private boolean processingKeys;
    private volatile boolean terminated;

    EventLoop(ServerConfig config, BufferPool pool, RequestBudget budget, String name) throws IOException {
        this.config = config;
        this.pool = pool;
        this.budget = budget;
        this.selector = Selector.open();
        this.thread = Thread.ofPlatform().name(name).unstarted(this::run);
        this.idleNanos = config.idleTimeout().toNanos();
        // Closes idle connections between idleTimeout and ~1.25 x idleTimeout, scanning at most
        // once per second.
        this.idleCheckNanos = Math.clamp(idleNanos / 4, TimeUnit.MILLISECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(1));
    }

    void start() {
        nextIdleCheck = System.nanoTime() + idleCheckNanos;
        thread.start();
    }

    Thread thread() {
        return thread;
    }

    @Override
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    ServerConfig config() {
        return config;
    }

    BufferPool pool() {
        return pool;
    }

    RequestBudget budget() {
        return budget;
    }

    /** {@code c} stopped reading until the budget has memory again (on this loop). */
    void awaitMemory(Connection c) {
        awaitingMemory.add(c);
    }

    /**
     * The budget got memory back (a task on this loop): the waiting connections try again in order; one that still
     * cannot reserve waits again, behind the others.
     */
    void memoryAvailable() {
        for (int n = awaitingMemory.size(); n > 0; n--) {
            Connection c = awaitingMemory.poll();
            if (c != null) {
                c.memoryAvailable();
            }
        }
    }

    boolean draining() {
        return draining;
    }

    int connectionCount() {
        return connectionCount;
    }

    /**
     * Runs {@code task} on this loop's thread. Safe from any thread. Once the loop has terminated,
     * tasks run on the caller's thread instead: by then every connection is closed, so the only work
     * left is releasing buffers, which is thread-safe.
     */
    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        if (terminated) {
            runTasks();
        } else if (wakeupNeeded.get() && wakeupNeeded.compareAndSet(true, false)) {
            selector.wakeup();
        }
    }

    @Override
    public SelectionKey register(SelectableChannel channel, int ops, ChannelListener listener) throws IOException {
        java.util.Objects.requireNonNull(listener, "listener");
        if (!inLoop()) {
            throw new IllegalStateException("register on the event loop's thread");
        }
        if (stopping || terminated) {
            throw new IOException("event loop " + thread.getName() + " is closing");
        }
        try {
            return channel.register(selector, ops, listener);
        } catch (CancelledKeyException e) {
            // Its previous key here is cancelled but not yet deregistered, which the next select
            // does. Not during key handling: selectNow would change the set being iterated.
            if (processingKeys) {
                throw new IllegalStateException("re-registering a channel whose key was just cancelled:"
                        + " do it from a task (execute), not from a listener", e);
            }
            selector.selectNow(); // ready keys stay in the selected set for the next round
            return channel.register(selector, ops, listener);
        }
    }

    /** Takes over an accepted socket (called by the acceptor thread). */
    void adopt(SocketChannel channel, long id) {
        execute(() -> register(channel, id));
    }

    /** Graceful shutdown: read no more requests; the loop ends when its connections have drained. */
    void drain() {
        execute(() -> {
            draining = true;
            for (Connection c : List.copyOf(connections)) {
                c.startDraining();
            }
        });
    }

    /** Forced shutdown: close every connection now and end the loop. */
    void terminate() {
        if (thread.getState() == Thread.State.NEW) {
            Server.close(selector);
            terminated = true;
            return;
        }
        execute(() -> stopping = true);
    }

    void markDirty(Connection c) {
        if (!c.dirty) {
            c.dirty = true;
            dirty.add(c);
        }
    }

    void removed(Connection c) {
        connections.remove(c);
        connectionCount = connections.size();
    }

    private void register(SocketChannel channel, long id) {
        if (draining || stopping || terminated) {
            Server.close(channel);
            return;
        }
        Connection c;
        try {
            c = new Connection(this, channel, id);
            c.key = channel.register(selector, SelectionKey.OP_READ, c);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "dropping connection {0}: {1}", id, e.getMessage());
            Server.close(channel);
            return;
        }
        connections.add(c);
        connectionCount = connections.size();
        c.opened();
    }

    /**
     * The loop. It ends only by {@link #drain} or {@link #terminate}: whatever an iteration throws (an
     * {@link OutOfMemoryError}, a failing {@code select}) is logged, and the loop carries on after
     * {@link #FAILURE_BACKOFF_MS}, so one bad moment does not take every connection of the loop with it.
     */
    private void run() {
        try {
            while (true) {
                try {
                    if (iterate()) {
                        break;
                    }
                } catch (ClosedSelectorException e) {
                    throw e;
                } catch (Throwable t) {
                    processingKeys = false;
                    selector.selectedKeys().clear(); // still ready ones are selected again
                    LOG.log(Level.ERROR, "{0}: iteration failed, carrying on in {1} ms: {2}", thread.getName(),
                            FAILURE_BACKOFF_MS, t.toString());
                    Thread.sleep(FAILURE_BACKOFF_MS);
                }
            }
        } catch (Throwable t) {
            LOG.log(Level.ERROR, thread.getName() + " failed; closing its connections", t);
        } finally {
            for (Connection c : List.copyOf(connections)) {
                c.close();
            }
            Server.close(selector);
            terminated = true;
            runTasks(); // tasks queued before `terminated` became visible
            endRound(); // what those tasks and the last round started must not wait for a round that never comes
        }
    }

    /** One round: tasks, the handler's round, writes, select, ready keys, idle check; true when the loop ends. */
    private boolean iterate() throws IOException {
        runTasks();
        endRound();
        flushDirty();
        if (stopping || (draining && connections.isEmpty())) {
            return true;
        }
        wakeupNeeded.set(true);
        if (tasks.isEmpty()) {
            selector.select(selectTimeoutMillis());
        } else {
            selector.selectNow();
        }
        wakeupNeeded.set(false);
        Set<SelectionKey> ready = selector.selectedKeys();
        processingKeys = true;
        for (SelectionKey key : ready) {
            process(key);
        }
        processingKeys = false;
        ready.clear();
        checkIdle();
        return false;
    }

    private void process(SelectionKey key) {
        if (!(key.attachment() instanceof Connection c)) {
            ready(key, (ChannelListener) key.attachment());
            return;
        }
        try {
            if (!key.isValid()) {
                return;
            }
            int ops = key.readyOps();
            if ((ops & SelectionKey.OP_WRITE) != 0) {
                c.onWritable();
            }
            if ((ops & SelectionKey.OP_READ) != 0 && key.isValid()) {
                c.onReadable();
            }
        } catch (Throwable t) {
            c.abort("unexpected error", t);
        }
    }

    /** A channel registered by a handler ({@link #register}). */
    private void ready(SelectionKey key, ChannelListener listener) {
        if (!key.isValid()) {
            return;
        }
        try {
            listener.ready(key);
        } catch (Throwable t) {
            LOG.log(Level.WARNING, thread.getName() + ": channel listener failed; closing its channel", t);
            key.cancel();
            Server.close(key.channel());
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (Throwable t) {
                LOG.log(Level.ERROR, thread.getName() + ": task failed", t);
            }
        }
    }

    private void endRound() {
        try {
            config.handler().endRound();
        } catch (Throwable t) {
            LOG.log(Level.ERROR, thread.getName() + ": handler's endRound failed", t);
        }
    }

    private void flushDirty() {
        Connection c;
        while ((c = dirty.poll()) != null) {
            c.dirty = false;
            try {
                c.flush();
            } catch (Throwable t) {
                c.abort("unexpected error", t);
            }
        }
    }

    private long selectTimeoutMillis() {
        if (idleNanos == 0) {
            return 0; // no timers: block until I/O or a task
        }
        long wait = nextIdleCheck - System.nanoTime();
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait) + 1);
    }

    private void checkIdle() {
        if (idleNanos == 0) {
            return;
        }
        long now = System.nanoTime();
        if (now - nextIdleCheck < 0) {
            return;
        }
        nextIdleCheck = now + idleCheckNanos;
        List<Connection> idle = new ArrayList<>();
        for (Connection c : connections) {
            if (c.idleFor(now) >= idleNanos) {
                idle.add(c);
            }
        }
        for (Connection c : idle) {
            LOG.log(Level.DEBUG, "closing {0}: idle for more than {1}", c, config.idleTimeout());
            c.close();
        }
    }
}
