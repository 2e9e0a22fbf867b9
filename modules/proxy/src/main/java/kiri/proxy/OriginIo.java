package kiri.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;

/**
 * Connections to origin brokers, multiplexed on a few selector threads.
 *
 * <p>Why not {@code ClientConnection}: it hands every request to a writer thread, which costs a
 * thread wake-up per request on top of the two a proxied request needs anyway (origin reader, then
 * the client's event loop). Here {@link Connection#send} writes inline on the caller (the client
 * connection's event loop) whenever the socket takes the whole frame, which is the common case;
 * only a full socket queues the rest for the selector thread. Responses are read on the selector
 * thread and matched to requests in order; futures complete there, so dependent actions must not
 * block.
 *
 * <p>Lifetime: {@link #close()} closes every connection (pending futures fail with an
 * {@link IOException}) and stops the threads.
 */
final class OriginIo implements AutoCloseable {
    private static final int READ_BUFFER = 64 * 1024;

    private final BufferPool pool;
    private final int maxResponseSize;
    private final Loop[] loops;
    private final AtomicInteger next = new AtomicInteger();

    OriginIo(int threads, BufferPool pool, int maxResponseSize) throws IOException {
        this.pool = pool;
        this.maxResponseSize = maxResponseSize;
        this.loops = new Loop[threads];
        try {
            for (int i = 0; i < threads; i++) {
                loops[i] = new Loop("kiri-proxy-origin-" + i);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /** Connects (blocking, up to {@code timeout}); call off event loops. */
    Connection connect(InetSocketAddress address, Duration timeout) throws IOException {
        String where = address.getHostString() + ":" + address.getPort();
        if (address.isUnresolved()) {
            throw new java.net.UnknownHostException("cannot connect to " + where + ": unknown host");
        }
        SocketChannel channel = SocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            channel.socket().connect(address, (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
            channel.configureBlocking(false);
        } catch (SocketTimeoutException e) {
            channel.close();
            throw new SocketTimeoutException("cannot connect to " + where + ": timed out after " + timeout);
        } catch (IOException e) {
            channel.close();
            java.net.ConnectException clear = new java.net.ConnectException("cannot connect to " + where + ": " + e.getMessage());
            clear.initCause(e);
            throw clear;
        }
        Loop loop = loops[Math.floorMod(next.getAndIncrement(), loops.length)];
        Connection c = new Connection(channel, loop, address);
        loop.submit(c::register);
        return c;
    }

    @Override
    public void close() {
        for (Loop loop : loops) {
            if (loop != null) {
                loop.stop();
            }
        }
    }

    /** One selector thread: reads responses, finishes writes the caller could not. */
    private final class Loop implements Runnable {
        private final Selector selector;
        private final Thread thread;
        private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER);
        private final List<Connection> connections = new ArrayList<>();
        private volatile boolean stopped;

        Loop(String name) throws IOException {
            this.selector = Selector.open();
            this.thread = Thread.ofPlatform().daemon().name(name).start(this);
        }

        void submit(Runnable task) {
            tasks.add(task);
            selector.wakeup();
        }

        boolean inLoop() {
            return Thread.currentThread() == thread;
        }

        void stop() {
            stopped = true;
            selector.wakeup();
            if (!inLoop()) {
                try {
                    thread.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void run() {
            try {
                while (!stopped) {
                    selector.select();
                    for (Runnable task; (task = tasks.poll()) != null; ) {
                        task.run();
                    }
                    for (SelectionKey key : selector.selectedKeys()) {
                        Connection c = (Connection) key.attachment();
                        if (!key.isValid()) {
                            continue;
                        }
                        if (key.isWritable()) {
                            c.onWritable();
                        }
                        if (key.isValid() && key.isReadable()) {
                            c.onReadable(readBuffer);
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException | ClosedSelectorException e) {
                Proxy.LOG.log(Level.WARNING, "origin selector failed: {0}", e.toString());
            } finally {
                IOException cause = new IOException("proxy is closing");
                for (Connection c : List.copyOf(connections)) {
                    c.close(cause);
                }
                for (Runnable task; (task = tasks.poll()) != null; ) {
                    task.run(); // registrations and releases still queued
                }
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // nothing left to do
                }
            }
        }
    }

    private record Pending(Buffer frame, ByteBuffer view, CompletableFuture<Buffer> writtenFuture) {
    }

    /** One origin connection: in-order request/response matching, inline writes. Thread-safe. */
    final class Connection {
        private final SocketChannel channel;
        private final Loop loop;
        private final InetSocketAddress remote;
        private final ArrayDeque<CompletableFuture<Buffer>> awaiting = new ArrayDeque<>();
        private final ArrayDeque<Pending> pending = new ArrayDeque<>();
        private SelectionKey key;
        private IOException closedBy;
        private boolean writeInterest;
        // read state: owned by the loop thread
        private final ByteBuffer sizeBytes = ByteBuffer.allocate(4);
        private Buffer frame;
        private ByteBuffer frameView;

        private Connection(SocketChannel channel, Loop loop, InetSocketAddress remote) {
            this.channel = channel;
            this.loop = loop;
            this.remote = remote;
        }

        private void register() {
            synchronized (this) {
                if (closedBy != null) {
                    return;
                }
                try {
                    key = channel.register(loop.selector, SelectionKey.OP_READ | (pending.isEmpty() ? 0 : SelectionKey.OP_WRITE), this);
                    writeInterest = !pending.isEmpty();
                } catch (IOException e) {
                    close(new IOException("connection to " + remote + " failed: " + e.getMessage(), e));
                    return;
                }
            }
            loop.connections.add(this);
        }

        boolean isOpen() {
            synchronized (this) {
                return closedBy == null;
            }
        }

        /**
         * Sends a frame (with its size prefix; ownership moves here). Returns the response frame
         * without its prefix (the caller closes it), or {@code null} once written if
         * {@code expectResponse} is false; fails with IOException if the connection closes first.
         */
        CompletableFuture<Buffer> send(Buffer requestFrame, boolean expectResponse) {
            CompletableFuture<Buffer> future = new CompletableFuture<>();
            IOException failure = null;
            boolean wantWrite = false;
            synchronized (this) {
                if (closedBy != null) {
                    requestFrame.close();
                    future.completeExceptionally(closedBy);
                    return future;
                }
                if (expectResponse) {
                    awaiting.add(future); // before writing, so the reader always finds it
                }
                Pending p = new Pending(requestFrame, requestFrame.segment().asByteBuffer(), expectResponse ? null : future);
                if (pending.isEmpty()) {
                    try {
                        channel.write(p.view());
                    } catch (IOException e) {
                        failure = e;
                    }
                }
                if (failure == null) {
                    if (!p.view().hasRemaining()) {
                        requestFrame.close();
                        if (!expectResponse) {
                            future.complete(null);
                        }
                    } else {
                        pending.add(p);
                        wantWrite = !writeInterest && key != null;
                        writeInterest |= wantWrite;
                    }
                } else {
                    requestFrame.close();
                    if (!expectResponse) {
                        future.completeExceptionally(failure);
                    }
                }
            }
            if (failure != null) {
                close(new IOException("connection to " + remote + " failed: " + failure.getMessage(), failure));
            } else if (wantWrite) {
                loop.submit(this::enableWrite);
            }
            return future;
        }

        private void enableWrite() {
            synchronized (this) {
                if (key != null && key.isValid() && !pending.isEmpty()) {
                    key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                }
            }
        }

        private void onWritable() {
            IOException failure = null;
            List<CompletableFuture<Buffer>> written = new ArrayList<>();
            synchronized (this) {
                try {
                    Pending p;
                    while ((p = pending.peek()) != null) {
                        channel.write(p.view());
                        if (p.view().hasRemaining()) {
                            break;
                        }
                        pending.poll();
                        p.frame().close();
                        if (p.writtenFuture() != null) {
                            written.add(p.writtenFuture());
                        }
                    }
                    if (pending.isEmpty() && key.isValid()) {
                        key.interestOps(SelectionKey.OP_READ);
                        writeInterest = false;
                    }
                } catch (IOException e) {
                    failure = e;
                }
            }
            written.forEach(f -> f.complete(null));
            if (failure != null) {
                close(new IOException("connection to " + remote + " failed: " + failure.getMessage(), failure));
            }
        }

        private void onReadable(ByteBuffer buffer) {
            try {
                while (true) {
                    buffer.clear();
                    int n = channel.read(buffer);
                    if (n < 0) {
                        throw new EOFException("connection closed by " + remote);
                    }
                    if (n == 0) {
                        return;
                    }
                    buffer.flip();
                    consume(buffer);
                }
            } catch (IOException e) {
                close(e instanceof EOFException ? e : new IOException("connection to " + remote + " failed: " + e.getMessage(), e));
            }
        }

        /** Splits bytes into frames; runs on the loop thread. */
        private void consume(ByteBuffer src) throws IOException {
            while (src.hasRemaining() || (frame != null && !frameView.hasRemaining())) {
                if (frame == null) {
                    while (sizeBytes.hasRemaining() && src.hasRemaining()) {
                        sizeBytes.put(src.get());
                    }
                    if (sizeBytes.hasRemaining()) {
                        return;
                    }
                    int size = sizeBytes.flip().getInt();
                    sizeBytes.clear();
                    if (size < 0 || size > maxResponseSize) {
                        throw new IOException("invalid response frame size " + size + " from " + remote);
                    }
                    frame = pool.acquire(size);
                    frameView = frame.segment().asByteBuffer();
                }
                int n = Math.min(src.remaining(), frameView.remaining());
                if (n > 0) {
                    frameView.put(frameView.position(), src, src.position(), n);
                    frameView.position(frameView.position() + n);
                    src.position(src.position() + n);
                }
                if (!frameView.hasRemaining()) {
                    Buffer complete = frame;
                    frame = null;
                    frameView = null;
                    deliver(complete);
                }
            }
        }

        private void deliver(Buffer response) throws IOException {
            CompletableFuture<Buffer> future;
            synchronized (this) {
                future = awaiting.poll();
            }
            if (future == null) {
                response.close();
                throw new IOException("unexpected response frame from " + remote + " (no request pending)");
            }
            if (!future.complete(response)) {
                response.close();
            }
        }

        /** Closes the socket and fails whatever is pending. Idempotent, any thread. */
        void close() {
            close(new IOException("connection to " + remote + " closed"));
        }

        private void close(IOException cause) {
            List<CompletableFuture<Buffer>> failed = new ArrayList<>();
            synchronized (this) {
                if (closedBy != null) {
                    return;
                }
                closedBy = cause;
                try {
                    channel.close(); // also cancels the key
                } catch (IOException ignored) {
                    // discarding it anyway
                }
                for (Pending p; (p = pending.poll()) != null; ) {
                    p.frame().close();
                    if (p.writtenFuture() != null) {
                        failed.add(p.writtenFuture());
                    }
                }
                failed.addAll(awaiting);
                awaiting.clear();
            }
            failed.forEach(f -> f.completeExceptionally(cause));
            Runnable release = () -> {
                loop.connections.remove(this);
                if (frame != null) {
                    frame.close();
                    frame = null;
                    frameView = null;
                }
            };
            if (loop.inLoop()) {
                release.run();
            } else {
                loop.submit(release);
            }
        }

        @Override
        public String toString() {
            return "OriginConnection[" + remote + (isOpen() ? "" : ", closed") + "]";
        }
    }
}
