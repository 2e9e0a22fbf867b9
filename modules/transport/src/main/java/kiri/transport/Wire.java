package kiri.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import javax.net.ssl.SSLSession;

/**
 * How a {@link Connection} moves bytes: straight to its socket ({@link SocketWire}) or through TLS
 * ({@link TlsWire}). Confined to the connection's event loop.
 */
sealed interface Wire permits SocketWire, TlsWire {
    /** Like {@link java.nio.channels.ReadableByteChannel#read}: bytes read, 0 for none now, -1 at the end. */
    int read(ByteBuffer dst) throws IOException;

    /** Like {@link java.nio.channels.GatheringByteChannel#write}: the bytes taken from {@code srcs}. */
    long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

    /** Sends up to {@code count} bytes of {@code file} from {@code position}; the number taken. */
    long transferFrom(FileChannel file, long position, long count) throws IOException;

    /** Writes what the wire holds back (TLS records already made); true when nothing is left. */
    boolean flush() throws IOException;

    /** True while bytes taken by {@link #write} (or handshake messages) still wait for the socket. */
    boolean pending();

    /** True while bytes already taken from the socket wait to be {@link #read} (the selector will not say so). */
    boolean bufferedInput();

    /** The TLS session once the handshake is done, else null (always null without TLS). */
    SSLSession tlsSession();
}
