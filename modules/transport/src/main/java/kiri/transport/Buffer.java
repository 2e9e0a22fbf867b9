package kiri.transport;

import java.lang.foreign.MemorySegment;

/**
 * A pooled off-heap buffer. The owner must {@link #close()} it exactly once, which returns the
 * memory to its {@link BufferPool}; closing twice throws {@link IllegalStateException}.
 *
 * <p>Ownership moves with the object: whoever receives a {@code Buffer} (the transport for a
 * {@link Response.Send}, a {@link ClientConnection} for a request, the caller for a client
 * response) is the one that closes it. The segment must not be touched after {@code close()}: its
 * memory goes to the next {@link BufferPool#acquire} caller. A buffer may be used and closed from
 * any thread, but by one owner at a time.
 */
public interface Buffer extends AutoCloseable {

    /** The usable memory: exactly the size that was requested. Contents start unspecified. */
    MemorySegment segment();

    /** Returns the memory to the pool. */
    @Override
    void close();
}
