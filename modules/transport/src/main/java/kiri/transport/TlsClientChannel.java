package kiri.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * The client side of TLS on a socket Kiri connects itself (the proxy's to its origin), with the same record handling
 * as the server's connections. {@link #handshake} runs the whole handshake off event loops; afterwards the channel
 * reads and writes plaintext without blocking, confined to one thread at a time (the event loop it is registered
 * with). Bytes taken by {@link #write} may wait in the channel ({@link #pending}), and bytes read from the socket may
 * wait to be read ({@link #bufferedInput}) where a selector does not see them.
 */
public final class TlsClientChannel implements ByteChannel {
    private final SocketChannel socket;
    private final TlsWire wire;

    private TlsClientChannel(SocketChannel socket, TlsWire wire) {
        this.socket = socket;
        this.wire = wire;
    }

    /**
     * Runs the TLS handshake on a connected, non-blocking socket; blocks the calling thread up to {@code timeout}.
     *
     * @param peer the origin as configured (its host name is sent as SNI and checked against the certificate)
     * @param endpointIdentification Kafka's {@code ssl.endpoint.identification.algorithm}: {@code https} checks the
     *     certificate names the host; empty or null does not
     */
    public static TlsClientChannel handshake(SocketChannel socket, SSLContext context, InetSocketAddress peer,
            List<String> protocols, String endpointIdentification, Duration timeout) throws IOException {
        SSLEngine engine = context.createSSLEngine(peer.getHostString(), peer.getPort());
        engine.setUseClientMode(true);
        SSLParameters params = engine.getSSLParameters();
        if (!protocols.isEmpty()) {
            params.setProtocols(protocols.toArray(String[]::new));
        }
        if (endpointIdentification != null && !endpointIdentification.isBlank()) {
            params.setEndpointIdentificationAlgorithm(endpointIdentification);
        }
        engine.setSSLParameters(params);
        TlsWire wire = new TlsWire(socket, engine);
        wire.handshake(System.nanoTime() + timeout.toNanos());
        return new TlsClientChannel(socket, wire);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return wire.read(dst);
    }

    /** Takes what it can of {@code src} into TLS records and writes them; see {@link #pending}. */
    @Override
    public int write(ByteBuffer src) throws IOException {
        return wire.write(src);
    }

    /** Writes the records held back; true when nothing is left. */
    public boolean flush() throws IOException {
        return wire.flush();
    }

    /** True while records wait for room in the socket. */
    public boolean pending() {
        return wire.pending();
    }

    /** True while plaintext (or whole records) already taken from the socket wait to be read. */
    public boolean bufferedInput() {
        return wire.bufferedInput();
    }

    @Override
    public boolean isOpen() {
        return wire.isOpen();
    }

    /** Closes the socket (no close_notify: the connection is being dropped). */
    @Override
    public void close() throws IOException {
        wire.close();
        socket.close();
    }
}
