package kiri.transport;

import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.concurrent.Executor;

/**
 * The event loop a connection lives on ({@link ConnectionContext#loop()}), for handlers that do
 * their own non-blocking I/O on the same thread as the connection: they register extra channels
 * (say, a socket to another server) with the loop's selector and run tasks there, so work that
 * starts on one socket and ends on another needs no thread hand-off.
 *
 * <p>Extra channels belong to whoever registered them: the loop never closes them (except after a
 * listener throws), does not count them as connections, and does not keep running for them.
 */
public interface LoopContext extends Executor {

    /**
     * Runs {@code task} on the loop thread: queued, and the loop woken if it waits. Safe from any
     * thread; once the loop has terminated, runs on the caller's thread instead.
     */
    @Override
    void execute(Runnable task);

    /** True on the loop thread. */
    boolean inLoop();

    /**
     * Registers a non-blocking channel with the loop's selector; {@code listener} then runs on the
     * loop thread whenever the returned key is selected. Change interest with
     * {@link SelectionKey#interestOps(int)}, stop with {@link SelectionKey#cancel()}; do not
     * {@link SelectionKey#attach attach} anything (the loop uses the attachment). A listener that
     * throws has its channel closed.
     *
     * <p>Call on the loop thread. A channel whose previous key with this loop was cancelled may be
     * registered again from a task ({@link #execute}), not from within a listener.
     *
     * @throws IllegalStateException off the loop thread
     * @throws IOException if the loop is closing
     */
    SelectionKey register(SelectableChannel channel, int ops, ChannelListener listener) throws IOException;

    /** Called on the loop thread when a registered channel is ready. */
    @FunctionalInterface
    interface ChannelListener {
        void ready(SelectionKey key);
    }
}
