package kiri.proxy;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;
import kiri.transport.ClientConnection;
import kiri.transport.LoopContext;
import kiri.transport.TlsClientChannel;

/**
 * One connection to an origin broker, served by the event loop of the client connection that uses
 * it ({@link #attach}): requests are written inline by the loop that read them from the client, and
 * responses are read, matched to requests in order and completed on that same loop, whose client
 * connection then writes them. No thread hand-off on the way there or back.
 *
 * <p>States: <em>detached</em> (just connected, or idle in the {@link OriginPool}; no loop, nothing
 * in flight) and <em>attached</em> to one loop, where every method but {@link #close()},
 * {@link #isOpen()} and {@link #probe()} must be called. Futures complete on the loop, so their
 * dependent actions must not block.
 *
 * <p>With TLS ({@link OriginTls}) the handshake is done in {@link #open}; bytes then go through a
 * {@link TlsClientChannel}, which may hold records back (written when the socket has room) and plaintext already
 * read (read on the loop's next turn, since the selector does not see it).
 */
final class OriginConnection {
    private static final int READ_BUFFER = 64 * 1024;
    /** Reads per readiness event, as the transport's own connections: the loop's other connections get their turn. */
    private static final int MAX_READS_PER_EVENT = 16;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    /** One read buffer per event-loop thread, shared by the origin connections it serves. */
    private static final ThreadLocal<ByteBuffer> READ_BUFFERS =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(READ_BUFFER));

    private record Pending(Buffer frame, ByteBuffer view, CompletableFuture<Buffer> written) {
    }

    private final SocketChannel channel;
    /** The channel itself, or TLS over it. */
    private final ByteChannel io;
    private final TlsClientChannel tls;
    private final InetSocketAddress remote;
    private final BufferPool pool;
    private final int maxResponseSize;
    private final AtomicReference<IOException> closedBy = new AtomicReference<>();
    private volatile LoopContext loop;
    // loop-confined while attached
    private SelectionKey key;
    private final ArrayDeque<CompletableFuture<Buffer>> awaiting = new ArrayDeque<>();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final ByteBuffer sizeBytes = ByteBuffer.allocate(Integer.BYTES);
    private Buffer frame;
    private ByteBuffer frameView;
    private boolean released;

    private OriginConnection(SocketChannel channel, TlsClientChannel tls, InetSocketAddress remote, BufferPool pool,
            int maxResponseSize) {
        this.channel = channel;
        this.tls = tls;
        this.io = tls != null ? tls : channel;
        this.remote = remote;
        this.pool = pool;
        this.maxResponseSize = maxResponseSize;
    }

    /**
     * Connects, and with {@code tls} runs the TLS handshake (blocking, each up to {@code timeout}); call off event
     * loops. TCP_NODELAY is on.
     */
    static OriginConnection open(InetSocketAddress address, Duration timeout, OriginTls tls, BufferPool pool,
            int maxResponseSize) throws IOException {
        SocketChannel channel = ClientConnection.connectSocket(address, timeout);
        TlsClientChannel secure = null;
        try {
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            channel.configureBlocking(false);
            if (tls != null) {
                secure = TlsClientChannel.handshake(channel, tls.context(), address, tls.protocols(),
                        tls.endpointIdentification(), timeout);
            }
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return new OriginConnection(channel, secure, address, pool, maxResponseSize);
    }

    boolean isOpen() {
        return closedBy.get() == null;
    }

    /**
     * For a detached connection: false if the origin closed it (or sent something unasked) while
     * it sat idle. A non-blocking read: any thread.
     */
    boolean probe() {
        if (!isOpen()) {
            return false;
        }
        try {
            if (io.read(ByteBuffer.allocate(1)) == 0) { // through TLS: session tickets are taken, not mistaken
                return true;
            }
        } catch (IOException ignored) {
            // dead
        }
        close();
        return false;
    }

    /** Starts serving this detached connection on {@code on}; call on that loop's thread. */
    void attach(LoopContext on) throws IOException {
        IOException closed = closedBy.get();
        if (closed != null) {
            throw closed;
        }
        key = on.register(channel, SelectionKey.OP_READ, this::ready);
        loop = on;
    }

    /** True when nothing is in flight: it can go back to the pool. On the loop. */
    boolean idle() {
        return awaiting.isEmpty() && pending.isEmpty() && frame == null && sizeBytes.position() == 0;
    }

    /** Stops serving on the loop (nothing may be in flight); the connection stays open. On the loop. */
    void detach() {
        if (key != null) {
            key.cancel();
            key = null;
        }
        loop = null;
    }

    /**
     * Sends a request frame (with its size prefix; ownership moves here). Returns the response
     * frame WITH its size prefix (the caller owns it), or {@code null} once written if
     * {@code expectResponse} is false; fails with IOException if the connection closes first.
     * On the loop; writes inline when the socket takes the frame, which is the common case.
     */
    CompletableFuture<Buffer> send(Buffer requestFrame, boolean expectResponse) {
        IOException closed = closedBy.get();
        if (closed != null) {
            requestFrame.close();
            return CompletableFuture.failedFuture(closed);
        }
        CompletableFuture<Buffer> future = new CompletableFuture<>();
        if (expectResponse) {
            awaiting.add(future);
        }
        ByteBuffer view = requestFrame.segment().asByteBuffer();
        if (pending.isEmpty()) {
            boolean done;
            try {
                io.write(view);
                done = !view.hasRemaining() && flushed();
            } catch (IOException e) {
                requestFrame.close();
                fail(e);
                if (!expectResponse) {
                    future.completeExceptionally(closedBy.get());
                }
                return future;
            }
            if (done) {
                requestFrame.close();
                if (!expectResponse) {
                    future.complete(null);
                }
                return future;
            }
            key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }
        pending.add(new Pending(requestFrame, view, expectResponse ? null : future));
        return future;
    }

    private void ready(SelectionKey k) {
        try {
            if (k.isWritable()) {
                onWritable();
            }
            if (k.isValid() && k.isReadable()) {
                onReadable();
            }
        } catch (IOException e) {
            fail(e);
        } catch (RuntimeException e) { // fail what is in flight rather than leave clients waiting
            Proxy.LOG.log(System.Logger.Level.WARNING, "origin connection to " + remote + " failed", e);
            fail(new IOException(e.toString(), e));
        }
    }

    private void onWritable() throws IOException {
        Pending p;
        while ((p = pending.peek()) != null) {
            io.write(p.view());
            if (p.view().hasRemaining() || !flushed()) {
                return;
            }
            pending.poll();
            p.frame().close();
            if (p.written() != null) {
                p.written().complete(null);
                if (!isOpen()) {
                    return;
                }
            }
        }
        if (key != null && key.isValid()) {
            key.interestOps(SelectionKey.OP_READ);
        }
    }

    private void onReadable() throws IOException {
        ByteBuffer buffer = READ_BUFFERS.get();
        for (int i = 0; i < MAX_READS_PER_EVENT && isOpen(); i++) {
            // the rest of a large frame goes straight into the frame's buffer: no copy through the read buffer
            boolean direct = frame != null && frameView.remaining() >= buffer.capacity();
            ByteBuffer into = direct ? frameView : buffer.clear();
            int n = io.read(into);
            if (n < 0) {
                throw new EOFException("connection closed by " + remote);
            }
            if (n == 0) {
                return;
            }
            boolean drained = into.hasRemaining(); // most likely: skip the read that would say so
            consume(direct ? NOTHING : buffer.flip()); // a frame that is now complete is delivered
            if (drained) {
                return;
            }
        }
        if (tls != null && isOpen() && tls.bufferedInput()) {
            loop.execute(this::readBuffered); // what TLS holds already: no readiness event will come for it
        }
    }

    private void readBuffered() {
        if (key == null || !isOpen()) {
            return; // detached or closed meanwhile
        }
        try {
            onReadable();
        } catch (IOException e) {
            fail(e);
        } catch (RuntimeException e) {
            fail(new IOException(e.toString(), e));
        }
    }

    /** True when TLS holds no records back (always without TLS, whose writes go straight to the socket). */
    private boolean flushed() throws IOException {
        return tls == null || tls.flush();
    }

    /** Splits bytes into response frames (each kept with its size prefix) and delivers them. */
    private void consume(ByteBuffer src) throws IOException {
        while (isOpen() && (src.hasRemaining() || (frame != null && !frameView.hasRemaining()))) {
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
                frame = pool.acquire(Integer.BYTES + (long) size);
                frameView = frame.segment().asByteBuffer();
                frameView.putInt(size);
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
                CompletableFuture<Buffer> future = awaiting.poll();
                if (future == null) {
                    complete.close();
                    throw new IOException("unexpected response frame from " + remote + " (no request pending)");
                }
                if (!future.complete(complete)) { // runs the client side's response path, inline
                    complete.close();
                }
            }
        }
    }

    private void fail(IOException e) {
        close(e instanceof EOFException ? e : new IOException("connection to " + remote + " failed: " + e.getMessage(), e));
    }

    /** Closes the socket and fails whatever is in flight. Idempotent, any thread. */
    void close() {
        close(new IOException("connection to " + remote + " closed"));
    }

    private void close(IOException cause) {
        if (!closedBy.compareAndSet(null, cause)) {
            return;
        }
        try {
            channel.close(); // also cancels the key
        } catch (IOException ignored) {
            // discarding it anyway
        }
        LoopContext on = loop;
        if (on == null || on.inLoop()) {
            release(cause);
        } else {
            on.execute(() -> release(cause)); // runs here instead once the loop has terminated
        }
    }

    /** Fails what is in flight and frees its buffers: on the loop, or once nothing else touches them. */
    private void release(IOException cause) {
        if (released) {
            return;
        }
        released = true;
        if (frame != null) {
            frame.close();
            frame = null;
            frameView = null;
        }
        for (Pending p; (p = pending.poll()) != null; ) {
            p.frame().close();
            if (p.written() != null) {
                p.written().completeExceptionally(cause);
            }
        }
        for (CompletableFuture<Buffer> f; (f = awaiting.poll()) != null; ) {
            f.completeExceptionally(cause);
        }
    }

    @Override
    public String toString() {
        return "OriginConnection[" + remote + (isOpen() ? "" : ", closed") + "]";
    }
}
