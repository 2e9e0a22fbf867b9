package kiri.transport;

import java.io.IOException;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * TLS over a non-blocking socket with the JDK's {@link SSLEngine}: the server side of the handshake happens as the
 * connection reads, records are unwrapped into a plaintext buffer that {@link #read} drains, and {@link #write}
 * wraps into one record buffer flushed to the socket. File regions are read into memory and encrypted (TLS cannot
 * use zero-copy, as in Kafka). A failed handshake or a corrupt record throws {@link SSLException}, which closes
 * this connection only. Confined to the connection's event loop; delegated handshake tasks run inline.
 */
final class TlsWire implements Wire, WritableByteChannel {
    /** Bytes of a file region read per step of {@link #transferFrom}: one TLS record's worth. */
    private static final int FILE_CHUNK = 16 * 1024;

    private final SocketChannel socket;
    private final SSLEngine engine;
    /** Ciphertext from the socket, in write mode. */
    private ByteBuffer netIn;
    /** Plaintext not yet read, in read mode. */
    private ByteBuffer appIn;
    /** Ciphertext not yet written to the socket, in read mode. */
    private ByteBuffer netOut;
    private ByteBuffer fileChunk;
    private boolean closed;
    /**
     * True when the last {@link #read} stopped for want of socket bytes (or of socket room for handshake messages):
     * then the selector reports what comes next, and what {@code netIn} holds is an incomplete record.
     */
    private boolean waitingForSocket;

    TlsWire(SocketChannel socket, SSLEngine engine) throws SSLException {
        this.socket = socket;
        this.engine = engine;
        SSLSession session = engine.getSession();
        netIn = ByteBuffer.allocate(session.getPacketBufferSize());
        appIn = ByteBuffer.allocate(session.getApplicationBufferSize()).flip();
        netOut = ByteBuffer.allocate(session.getPacketBufferSize()).flip();
        engine.beginHandshake();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n = 0;
        waitingForSocket = false;
        while (true) {
            if (appIn.hasRemaining()) {
                int take = Math.min(appIn.remaining(), dst.remaining());
                dst.put(dst.position(), appIn, appIn.position(), take);
                dst.position(dst.position() + take);
                appIn.position(appIn.position() + take);
                n += take;
                if (!dst.hasRemaining()) {
                    return n;
                }
            }
            if (!handshakeStep()) {
                waitingForSocket = true;
                return n; // handshake output waits for the socket
            }
            int step = unwrapStep();
            if (step < 0) {
                return n > 0 ? n : -1;
            }
            if (step == 0) {
                waitingForSocket = true;
                return n;
            }
        }
    }

    /**
     * One unwrap into {@code appIn}, reading the socket when a record is incomplete: 1 after progress, 0 when the
     * socket has nothing now, -1 at the end of the stream (socket or TLS closed).
     */
    private int unwrapStep() throws IOException {
        netIn.flip();
        SSLEngineResult result;
        try {
            appIn.compact();
            result = engine.unwrap(netIn, appIn);
        } finally {
            appIn.flip();
            netIn.compact();
        }
        switch (result.getStatus()) {
            case OK -> {
            }
            case BUFFER_UNDERFLOW -> {
                if (!netIn.hasRemaining()) {
                    netIn = grow(netIn, engine.getSession().getPacketBufferSize());
                }
                int r = socket.read(netIn);
                return r < 0 ? -1 : r == 0 ? 0 : 1;
            }
            case BUFFER_OVERFLOW -> appIn = growReadMode(appIn, engine.getSession().getApplicationBufferSize());
            case CLOSED -> {
                return -1;
            }
        }
        return 1;
    }

    /**
     * Runs the whole handshake before the connection joins an event loop (a client's: {@link TlsClientChannel}),
     * waiting on a selector of its own; the socket is non-blocking. Fails with {@link SSLException} after the deadline.
     */
    void handshake(long deadlineNanos) throws IOException {
        try (Selector selector = Selector.open()) {
            SelectionKey key = socket.register(selector, 0);
            while (true) {
                int waitFor = switch (engine.getHandshakeStatus()) {
                    case NOT_HANDSHAKING, FINISHED -> flush() ? -1 : SelectionKey.OP_WRITE;
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> unwrapHandshake() ? 0 : SelectionKey.OP_READ;
                    default -> handshakeStep() ? 0 : SelectionKey.OP_WRITE;
                };
                if (waitFor < 0) {
                    return;
                }
                if (waitFor > 0) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        throw new SSLException("TLS handshake with " + socket.getRemoteAddress() + " timed out");
                    }
                    key.interestOps(waitFor);
                    selector.select(Math.max(1, left / 1_000_000));
                    selector.selectedKeys().clear();
                }
            }
        }
    }

    /** One unwrap of handshake messages; false when it needs bytes the socket does not have yet. */
    private boolean unwrapHandshake() throws IOException {
        int step = unwrapStep();
        if (step < 0) {
            throw new EOFException("connection closed by " + socket.getRemoteAddress() + " during the TLS handshake");
        }
        return step > 0;
    }

    /** Runs delegated tasks and sends handshake messages; false if some are still waiting for the socket. */
    private boolean handshakeStep() throws IOException {
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> {
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                }
                case NEED_WRAP -> {
                    wrap(new ByteBuffer[] {ByteBuffer.allocate(0)}, 0, 1);
                    if (!flush()) {
                        return false;
                    }
                }
                default -> {
                    return flush();
                }
            }
        }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        long taken = 0;
        while (flush() && handshakeStep()) {
            SSLEngineResult result = wrap(srcs, offset, length);
            taken += result.bytesConsumed();
            if (result.bytesConsumed() == 0 && result.bytesProduced() == 0 || !remaining(srcs, offset, length)) {
                flush();
                break;
            }
        }
        return taken;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    private SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length) throws IOException {
        while (true) {
            SSLEngineResult result;
            try {
                netOut.compact();
                result = engine.wrap(srcs, offset, length, netOut);
            } finally {
                netOut.flip();
            }
            switch (result.getStatus()) {
                case OK -> {
                    return result;
                }
                case BUFFER_OVERFLOW -> {
                    if (netOut.hasRemaining()) {
                        return result; // flush first
                    }
                    netOut = growReadMode(netOut, engine.getSession().getPacketBufferSize());
                }
                case CLOSED -> throw new ClosedChannelException();
                case BUFFER_UNDERFLOW -> throw new SSLException("unexpected underflow while wrapping");
            }
        }
    }

    @Override
    public long transferFrom(FileChannel file, long position, long count) throws IOException {
        if (fileChunk == null) {
            fileChunk = ByteBuffer.allocate(FILE_CHUNK);
        }
        long sent = 0;
        while (sent < count && flush()) {
            fileChunk.clear().limit((int) Math.min(FILE_CHUNK, count - sent));
            int r = file.read(fileChunk, position + sent);
            if (r <= 0) {
                break; // the caller notices a file shorter than its range
            }
            fileChunk.flip();
            write(new ByteBuffer[] {fileChunk}, 0, 1);
            // wrap takes all of one record's worth at once; a remainder means the record buffer filled
            int taken = r - fileChunk.remaining();
            sent += taken;
            if (taken < r) {
                break;
            }
        }
        return sent;
    }

    @Override
    public boolean flush() throws IOException {
        while (netOut.hasRemaining()) {
            if (socket.write(netOut) == 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean pending() {
        return netOut.hasRemaining();
    }

    @Override
    public boolean bufferedInput() {
        return appIn.hasRemaining() || !waitingForSocket && netIn.position() > 0;
    }

    @Override
    public SSLSession tlsSession() {
        SSLEngineResult.HandshakeStatus hs = engine.getHandshakeStatus();
        return hs == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || hs == SSLEngineResult.HandshakeStatus.FINISHED
                ? engine.getSession() : null;
    }

    @Override
    public boolean isOpen() {
        return !closed && socket.isOpen();
    }

    @Override
    public void close() {
        closed = true;
    }

    private static boolean remaining(ByteBuffer[] srcs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (srcs[i].hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    /** A bigger buffer in write mode with {@code b}'s content. */
    private static ByteBuffer grow(ByteBuffer b, int atLeast) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, b.capacity() * 2));
        return bigger.put(b.flip());
    }

    /** A bigger buffer in read mode with {@code b}'s remaining content. */
    private static ByteBuffer growReadMode(ByteBuffer b, int atLeast) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(atLeast, b.capacity() * 2));
        return bigger.put(b).flip();
    }
}
