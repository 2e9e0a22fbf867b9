package kiri.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/** Frames, handlers and a blocking raw-socket client for the transport tests. */
final class TestSupport {
    static final ValueLayout.OfInt INT_BE = Frames.INT_BE;
    /** Only to avoid hanging forever; no test depends on how fast anything is. */
    static final Duration PATIENCE = Duration.ofSeconds(30);

    private TestSupport() {
    }

    /** Request body: seq (int), command (byte), then {@code padding} bytes derived from seq. */
    static byte[] body(int seq, char command, int padding) {
        ByteBuffer b = ByteBuffer.allocate(5 + padding);
        b.putInt(seq).put((byte) command);
        for (int i = 0; i < padding; i++) {
            b.put((byte) (seq * 31 + i));
        }
        return b.array();
    }

    static byte[] frame(byte[] body) {
        return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
    }

    static byte[] request(int seq, char command, int padding) {
        return frame(body(seq, command, padding));
    }

    static int seq(MemorySegment body) {
        return body.get(INT_BE, 0);
    }

    static int seq(byte[] body) {
        return ByteBuffer.wrap(body).getInt();
    }

    static char command(MemorySegment body) {
        return (char) body.get(ValueLayout.JAVA_BYTE, 4);
    }

    /** A complete response frame (with prefix) carrying a copy of {@code body}. */
    static Buffer echoFrame(BufferPool pool, MemorySegment body) {
        Buffer out = pool.acquire(4 + body.byteSize());
        out.segment().set(INT_BE, 0, (int) body.byteSize());
        MemorySegment.copy(body, 0, out.segment(), 4, body.byteSize());
        return out;
    }

    static Response.Send echo(ConnectionContext connection, MemorySegment body) {
        return new Response.Send(echoFrame(connection.pool(), body));
    }

    static final RequestHandler ECHO = (connection, body) -> CompletableFuture.completedFuture(echo(connection, body));

    /** A pooled request frame with size prefix, as {@link ClientConnection#send} wants it. */
    static Buffer pooledFrame(BufferPool pool, byte[] body) {
        Buffer b = pool.acquire(4 + body.length);
        b.segment().set(INT_BE, 0, body.length);
        MemorySegment.copy(MemorySegment.ofArray(body), 0, b.segment(), 4, body.length);
        return b;
    }

    static byte[] bytes(Buffer buffer) {
        try (buffer) {
            return buffer.segment().toArray(ValueLayout.JAVA_BYTE);
        }
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    static ServerConfig.Builder local(RequestHandler handler, BufferPool pool) {
        return ServerConfig.builder(handler).bind("127.0.0.1", 0).eventLoops(2).pool(pool);
    }

    /** A blocking socket client that writes raw bytes and reads frames. */
    static final class RawClient implements AutoCloseable {
        final Socket socket = new Socket();
        private final DataInputStream in;
        private final OutputStream out;

        RawClient(InetSocketAddress address) throws IOException {
            socket.setTcpNoDelay(true);
            socket.connect(address, (int) PATIENCE.toMillis());
            socket.setSoTimeout((int) PATIENCE.toMillis());
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        void write(byte[] bytes) throws IOException {
            write(bytes, 0, bytes.length);
        }

        void write(byte[] bytes, int offset, int length) throws IOException {
            out.write(bytes, offset, length);
            out.flush();
        }

        /** The next frame's body (without prefix). */
        byte[] readFrame() throws IOException {
            int size = in.readInt();
            byte[] body = new byte[size];
            in.readFully(body);
            return body;
        }

        void expectEcho(byte[] requestFrame) throws IOException {
            byte[] body = readFrame();
            assertArrayEquals(java.util.Arrays.copyOfRange(requestFrame, 4, requestFrame.length), body);
        }

        /** Asserts the server closed the connection: end of stream (or a reset), not a timeout. */
        void expectClosedByServer() throws IOException {
            try {
                int b = in.read();
                assertEquals(-1, b, "expected end of stream, got a byte");
            } catch (SocketTimeoutException e) {
                fail("server did not close the connection within " + PATIENCE);
            } catch (EOFException | SocketException e) {
                // reset: closed as well
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
