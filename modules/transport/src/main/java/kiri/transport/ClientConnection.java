package kiri.transport;

import static kiri.transport.Frames.INT_BE;
import static kiri.transport.Frames.SIZE_PREFIX;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Client side of a frame connection, with pipelining: any number of requests may be outstanding,
 * and responses are matched to requests in order (Kafka answers in order per connection).
 *
 * <p>Threads: a blocking socket with one writer and one reader thread. {@link #send} only queues
 * and never blocks, from any thread; the writer drains the queue with gathering writes (so
 * concurrent or rapid sends share syscalls), and the reader parses many responses per read. Futures
 * complete on the reader thread (responses) or the writer thread ({@code expectResponse=false}):
 * dependent actions must not block, or they stall the connection.
 *
 * <p>Lifetime: {@link #close()} (or a socket error, or the peer closing) fails every pending future
 * with an {@link IOException} and releases queued request buffers.
 */
public final class ClientConnection implements AutoCloseable {

    /**
     * @param connectTimeout how long {@link #connect} waits for the TCP handshake
     * @param maxResponseSize a larger (or negative) response size prefix is treated as a protocol
     *     error and closes the connection
     * @param threadFactory makes the reader and writer threads (default: daemon platform threads)
     */
    public record Options(Duration connectTimeout, int maxResponseSize, ThreadFactory threadFactory) {
        public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

        public Options {
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(threadFactory, "threadFactory");
            if (connectTimeout.isNegative() || connectTimeout.isZero()) {
                throw new IllegalArgumentException("connectTimeout must be positive, got " + connectTimeout);
            }
            if (maxResponseSize < 0) {
                throw new IllegalArgumentException("maxResponseSize must be >= 0, got " + maxResponseSize);
            }
        }

        /** 10 s connect timeout, 100 MiB responses, daemon platform threads. */
        public static Options defaults() {
            return new Options(DEFAULT_CONNECT_TIMEOUT, ServerConfig.DEFAULT_MAX_FRAME_SIZE,
                    Thread.ofPlatform().daemon().factory());
        }

        public Options withConnectTimeout(Duration timeout) {
            return new Options(timeout, maxResponseSize, threadFactory);
        }
    }

    private record Outgoing(Buffer frame, ByteBuffer view, CompletableFuture<Buffer> future, boolean expectResponse) {
    }

    private final SocketChannel channel;
    private final BufferPool pool;
    private final int maxResponseSize;
    private final InetSocketAddress remoteAddress;
    private final InetSocketAddress localAddress;
    private final ConcurrentLinkedQueue<Outgoing> outgoing = new ConcurrentLinkedQueue<>();
    /** Futures of written requests, in write order: the writer adds, the reader (or a failure) polls. */
    private final ConcurrentLinkedQueue<CompletableFuture<Buffer>> awaiting = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writerParked = new AtomicBoolean();
    /** Non-null once closed: the exception pending and later futures fail with. */
    private final AtomicReference<IOException> closedBy = new AtomicReference<>();
    private final Thread reader;
    private final Thread writer;

    private ClientConnection(SocketChannel channel, BufferPool pool, Options options) throws IOException {
        this.channel = channel;
        this.pool = pool;
        this.maxResponseSize = options.maxResponseSize();
        this.remoteAddress = (InetSocketAddress) channel.getRemoteAddress();
        this.localAddress = (InetSocketAddress) channel.getLocalAddress();
        String name = "kiri-client-" + localAddress.getPort() + "-" + remoteAddress.getPort();
        this.writer = options.threadFactory().newThread(this::writeLoop);
        this.reader = options.threadFactory().newThread(this::readLoop);
        writer.setName(name + "-writer");
        reader.setName(name + "-reader");
        writer.start();
        reader.start();
    }

    /** Connects with {@link Options#defaults()} but the given connect timeout. */
    public static ClientConnection connect(String host, int port, Duration connectTimeout, BufferPool pool)
            throws IOException {
        return connect(new InetSocketAddress(host, port), pool, Options.defaults().withConnectTimeout(connectTimeout));
    }

    /**
     * Opens a connection; response buffers come from {@code pool}.
     *
     * @throws ConnectException "cannot connect to HOST:PORT: ..." if refused or unreachable
     * @throws SocketTimeoutException if the handshake takes longer than the connect timeout
     * @throws UnknownHostException if the host does not resolve
     */
    public static ClientConnection connect(InetSocketAddress address, BufferPool pool, Options options)
            throws IOException {
        Objects.requireNonNull(pool, "pool");
        SocketChannel channel = connectSocket(address, options.connectTimeout());
        try {
            return new ClientConnection(channel, pool, options);
        } catch (IOException | RuntimeException e) {
            Server.close(channel);
            throw e;
        }
    }

    /**
     * A connected, blocking socket with TCP_NODELAY on, or an exception whose message says where and why:
     * "cannot connect to HOST:PORT: ..." ({@link ConnectException}, {@link SocketTimeoutException} after
     * {@code timeout}, {@link UnknownHostException}).
     */
    public static SocketChannel connectSocket(InetSocketAddress address, Duration timeout) throws IOException {
        String where = address.getHostString() + ":" + address.getPort();
        if (address.isUnresolved()) {
            throw new UnknownHostException("cannot connect to " + where + ": unknown host");
        }
        SocketChannel channel = SocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            long millis = Math.max(1, timeout.toMillis());
            channel.socket().connect(address, (int) Math.min(Integer.MAX_VALUE, millis));
            return channel;
        } catch (SocketTimeoutException e) {
            Server.close(channel);
            SocketTimeoutException clear = new SocketTimeoutException(
                    "cannot connect to " + where + ": timed out after " + timeout);
            clear.initCause(e);
            throw clear;
        } catch (IOException e) {
            Server.close(channel);
            ConnectException clear = new ConnectException("cannot connect to " + where + ": " + e.getMessage());
            clear.initCause(e);
            throw clear;
        } catch (RuntimeException e) {
            Server.close(channel);
            throw e;
        }
    }

    /**
     * Queues a request. Takes ownership of {@code requestFrame}: it is closed once written or on
     * failure, whatever happens.
     *
     * @param requestFrame the complete request including its 4-byte size prefix
     * @param expectResponse false for requests the server does not answer (Kafka produce with
     *     acks=0): the future then completes with {@code null} once the request is written
     * @return the response frame WITHOUT its size prefix, which the caller must close; or
     *     {@code null} (see above). Fails with {@link IOException} if the connection closes first,
     *     or {@link IllegalArgumentException} if the size prefix does not match the buffer
     */
    public CompletableFuture<Buffer> send(Buffer requestFrame, boolean expectResponse) {
        Objects.requireNonNull(requestFrame, "requestFrame");
        MemorySegment segment = requestFrame.segment();
        if (!Frames.wellFormed(segment)) {
            long n = segment.byteSize();
            requestFrame.close();
            return CompletableFuture.failedFuture(new IllegalArgumentException(
                    "request frame of " + n + " bytes does not start with size prefix " + (n - SIZE_PREFIX)));
        }
        CompletableFuture<Buffer> future = new CompletableFuture<>();
        IOException closed = closedBy.get();
        if (closed != null) {
            requestFrame.close();
            future.completeExceptionally(closed);
            return future;
        }
        outgoing.add(new Outgoing(requestFrame, segment.asByteBuffer(), future, expectResponse));
        if (closedBy.get() != null) {
            failPending(); // close() may have drained the queue before our add
        } else if (writerParked.get()) {
            LockSupport.unpark(writer);
        }
        return future;
    }

    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    public InetSocketAddress localAddress() {
        return localAddress;
    }

    public boolean isOpen() {
        return closedBy.get() == null;
    }

    /**
     * Closes the socket, fails pending futures with an {@link IOException} and waits briefly for the
     * reader and writer threads to finish. Idempotent.
     */
    @Override
    public void close() {
        shutDown(new IOException("connection to " + remoteAddress + " closed"));
        join(writer);
        join(reader);
    }

    @Override
    public String toString() {
        return "ClientConnection[" + localAddress + " -> " + remoteAddress + (isOpen() ? "" : ", closed") + "]";
    }

    private void shutDown(IOException cause) {
        if (closedBy.compareAndSet(null, cause)) {
            Server.close(channel); // unblocks the reader (and a writer blocked in write)
            LockSupport.unpark(writer);
        }
        failPending();
    }

    /** Fails whatever is queued; safe to call from several threads (each item is polled once). */
    private void failPending() {
        IOException cause = closedBy.get();
        Outgoing out;
        while ((out = outgoing.poll()) != null) {
            out.frame().close();
            out.future().completeExceptionally(cause);
        }
        // exclusive with deliver(): a response read just before the close must not be handed to the
        // request after the one whose future this loop already failed
        synchronized (awaiting) {
            CompletableFuture<Buffer> future;
            while ((future = awaiting.poll()) != null) {
                future.completeExceptionally(cause);
            }
        }
    }

    private void writeLoop() {
        Outgoing[] batch = new Outgoing[Frames.MAX_GATHER];
        ByteBuffer[] views = new ByteBuffer[Frames.MAX_GATHER];
        try {
            while (closedBy.get() == null) {
                int count = 0;
                Outgoing out;
                while (count < batch.length && (out = outgoing.poll()) != null) {
                    batch[count] = out;
                    views[count] = out.view();
                    count++;
                    if (out.expectResponse()) {
                        awaiting.add(out.future()); // before writing, so the reader always finds it
                    }
                }
                if (count == 0) {
                    writerParked.set(true);
                    if (outgoing.isEmpty() && closedBy.get() == null) {
                        LockSupport.park(this);
                    }
                    writerParked.set(false);
                    continue;
                }
                IOException failure = null;
                try {
                    while (views[count - 1].hasRemaining()) {
                        channel.write(views, 0, count);
                    }
                } catch (IOException e) {
                    failure = e;
                }
                for (int i = 0; i < count; i++) {
                    batch[i].frame().close();
                    if (!batch[i].expectResponse()) {
                        if (failure == null) {
                            batch[i].future().complete(null);
                        } else {
                            batch[i].future().completeExceptionally(failure);
                        }
                    }
                }
                Arrays.fill(batch, 0, count, null);
                Arrays.fill(views, 0, count, null);
                if (failure != null) {
                    shutDown(new IOException("connection to " + remoteAddress + " failed: " + failure.getMessage(), failure));
                    return;
                }
            }
        } catch (RuntimeException | Error e) {
            shutDown(new IOException("connection to " + remoteAddress + " failed: " + e, e));
            throw e;
        } finally {
            failPending();
        }
    }

    private void readLoop() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(Frames.READ_BUFFER_SIZE);
        MemorySegment segment = MemorySegment.ofBuffer(buffer);
        IOException failure;
        try {
            while (true) {
                if (channel.read(buffer) < 0) {
                    throw new EOFException("connection closed by " + remoteAddress);
                }
                int limit = buffer.position();
                int pos = 0;
                while (limit - pos >= SIZE_PREFIX) {
                    int size = segment.get(INT_BE, pos);
                    if (size < 0 || size > maxResponseSize) {
                        throw new IOException("invalid response frame size " + size + " from " + remoteAddress);
                    }
                    int available = limit - pos - SIZE_PREFIX;
                    Buffer frame = pool.acquire(size);
                    if (available >= size) {
                        MemorySegment.copy(segment, pos + SIZE_PREFIX, frame.segment(), 0, size);
                        pos += SIZE_PREFIX + size;
                    } else {
                        // Too big for what arrived: read the rest straight into the frame.
                        MemorySegment.copy(segment, pos + SIZE_PREFIX, frame.segment(), 0, available);
                        ByteBuffer rest = frame.segment().asByteBuffer().position(available);
                        try {
                            while (rest.hasRemaining()) {
                                if (channel.read(rest) < 0) {
                                    throw new EOFException("connection closed by " + remoteAddress);
                                }
                            }
                        } catch (IOException e) {
                            frame.close();
                            throw e;
                        }
                        pos = limit;
                    }
                    deliver(frame);
                }
                buffer.limit(limit).position(pos);
                buffer.compact(); // keep a split size prefix
            }
        } catch (IOException e) {
            failure = closedBy.get() != null ? closedBy.get()
                    : e instanceof EOFException ? e
                    : new IOException("connection to " + remoteAddress + " failed: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            shutDown(new IOException("connection to " + remoteAddress + " failed: " + e, e));
            throw e;
        }
        shutDown(failure);
    }

    private void deliver(Buffer frame) throws IOException {
        CompletableFuture<Buffer> future;
        synchronized (awaiting) {
            if (closedBy.get() != null) {
                frame.close(); // failPending() has failed (or is failing) the futures: nothing to match
                return;
            }
            future = awaiting.poll();
        }
        if (future == null) {
            frame.close();
            throw new IOException("unexpected response frame from " + remoteAddress + " (no request pending)");
        }
        if (!future.complete(frame)) {
            frame.close(); // cancelled by the caller
        }
    }

    private static void join(Thread thread) {
        if (thread == Thread.currentThread()) {
            return;
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
