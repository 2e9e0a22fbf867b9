package kiri.transport;

import java.net.InetSocketAddress;

/**
 * Per-connection information for {@link RequestHandler}s. Safe to call from any thread, also
 * after the connection closed.
 */
public interface ConnectionContext {

    /** Unique within one {@link Server}, increasing in accept order, starting at 1. */
    long id();

    InetSocketAddress remoteAddress();

    InetSocketAddress localAddress();

    /** Where handlers allocate response frames for {@link Response.Send}. */
    BufferPool pool();

    /** False once the connection is closed or closing (after a {@link Response.Close}). */
    boolean isOpen();

    /**
     * The event loop this connection lives on: the thread its handler calls run on, which
     * handlers can also use for I/O of their own (see {@link LoopContext}).
     */
    LoopContext loop();

    /**
     * Bytes of this connection's responses held in memory waiting to be written (file regions not counted): what a
     * peer that does not read its responses makes the server hold. Handlers that can answer with less (Fetch) use it
     * to bound that. A snapshot, readable from any thread.
     */
    default long queuedResponseBytes() {
        return 0;
    }

    /**
     * The TLS session once the handshake is done (its peer certificates for mTLS), or null on a plaintext
     * connection or before the handshake completed.
     */
    default javax.net.ssl.SSLSession tlsSession() {
        return null;
    }
}
