package kiri.transport;

import static kiri.transport.Frames.INT_BE;
import static kiri.transport.Frames.LOG;
import static kiri.transport.Frames.SIZE_PREFIX;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.Records;

/**
 * One accepted socket. Confined to its {@link EventLoop}'s thread, except {@link #complete}, which
 * any thread may call and which hops to the loop.
 *
 * <p>Reading: the loop's shared read buffer takes whatever the socket has; complete frames are
 * copied into exact-size pooled buffers and dispatched. A frame that does not fit gets its pooled
 * buffer as soon as its size is known, and the rest of it is read straight into that buffer. Up to
 * 3 bytes of a split size prefix are carried over to the next read. When back-pressure pauses
 * reading mid-buffer, the unparsed bytes move to a pooled "stash" until it resumes.
 *
 * <p>Ordering: each dispatched request gets a {@link Slot} in FIFO order; only the head slot's
 * response may be queued for writing, so completions out of order wait for their predecessors.
 *
 * <p>In flight = dispatched requests whose slot has not been retired: retired when a
 * {@link Response.None} or {@link Response.Close} reaches the head, or when a
 * {@link Response.Send} frame or {@link Response.Parts} response has been completely written. This
 * also throttles peers that send but do not read their responses.
 *
 * <p>Writing: consecutive memory pieces (of one or several responses) leave in one gathering write;
 * a file piece goes with {@link FileChannel#transferTo} straight from the file to the socket. Either
 * kind stops at a full socket buffer and resumes on OP_WRITE.
 */
final class Connection implements ConnectionContext {
    /** Reads per readiness event, so one busy peer cannot starve the loop's other connections. */
    private static final int MAX_READS_PER_EVENT = 16;
    /**
     * A frame whose bytes have not all arrived gets a buffer of at most this size at first (256 KiB:
     * typical produce requests fit); larger ones grow as their bytes arrive.
     */
    static final int UPFRONT_FRAME_BYTES = 256 << 10;

    private enum State { OPEN, CLOSING, CLOSED }

    /** A request whose response is pending or waiting for its predecessors. */
    private static final class Slot {
        final Buffer request;
        /** The frame's reservation in the server's {@link RequestBudget}, returned with the request buffer. */
        final long reserved;
        boolean done;
        Response response;
        Throwable failure;

        Slot(Buffer request, long reserved) {
            this.request = request;
            this.reserved = reserved;
        }
    }

    /** A file piece of a response being written; {@code position} moves as bytes leave. */
    private static final class FilePiece {
        final FileChannel file;
        long position;
        final long end;

        FilePiece(FileChannel file, long position, long length) {
            this.file = file;
            this.position = position;
            this.end = position + length;
        }
    }

    /** A response being written: its pieces ({@link ByteBuffer} or {@link FilePiece}) in order. */
    private static final class Outgoing {
        final Object[] pieces;
        final Runnable release;
        /** Bytes of its memory pieces (what {@link #queuedResponseBytes()} counts). */
        final long memoryBytes;
        int next;
        private boolean released;

        Outgoing(Object[] pieces, Runnable release) {
            this.pieces = pieces;
            this.release = release;
            long bytes = 0;
            for (Object piece : pieces) {
                if (piece instanceof ByteBuffer b) {
                    bytes += b.remaining();
                }
            }
            this.memoryBytes = bytes;
        }

        /** Skips the pieces already written; true when none is left. */
        boolean advance() {
            while (next < pieces.length && switch (pieces[next]) {
                case ByteBuffer b -> !b.hasRemaining();
                case FilePiece f -> f.position >= f.end;
                default -> throw new IllegalStateException();
            }) {
                next++;
            }
            return next == pieces.length;
        }

        void release() {
            if (!released) {
                released = true;
                Connection.release(release);
            }
        }
    }

    private final EventLoop loop;
    private final SocketChannel channel;
    /** The socket itself, or TLS over it. */
    private final Wire wire;
    private final long id;
    private final InetSocketAddress remoteAddress;
    private final InetSocketAddress localAddress;
    private final BufferPool pool;
    private final RequestHandler handler;
    private final RequestBudget budget;
    private final int maxFrameSize;
    private final int maxInFlight;
    private final int resumeAt;
    SelectionKey key;
    boolean dirty;

    private State state = State.OPEN;
    private volatile boolean open = true;
    private boolean paused;
    /** Reading stopped because the server's {@link RequestBudget} could not take the next frame. */
    private boolean awaitingMemory;
    /** Bytes of in-memory responses queued for writing; written on the loop, read anywhere. */
    private volatile long queuedBytes;
    private boolean inputEnded;
    private boolean writeBlocked;
    private int interestOps = SelectionKey.OP_READ;
    private int inFlight;
    private long lastActive = System.nanoTime();
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private final ArrayDeque<Outgoing> outgoing = new ArrayDeque<>();

    private Buffer partial;
    private ByteBuffer partialView;
    /** The size of the frame being received into {@code partial}, which may still be smaller (it grows). */
    private int partialSize;
    private Buffer stash;
    private long stashPos;
    private long stashLimit;
    private final byte[] carry = new byte[SIZE_PREFIX - 1];
    private int carryLength;

    Connection(EventLoop loop, SocketChannel channel, long id) throws IOException {
        this.loop = loop;
        this.channel = channel;
        this.id = id;
        this.remoteAddress = (InetSocketAddress) channel.getRemoteAddress();
        this.localAddress = (InetSocketAddress) channel.getLocalAddress();
        this.pool = loop.pool();
        TlsConfig tls = loop.config().tls();
        this.wire = tls == null ? new SocketWire(channel) : new TlsWire(channel, tls.newEngine(remoteAddress));
        this.handler = loop.config().handler();
        this.budget = loop.budget();
        this.maxFrameSize = loop.config().maxFrameSize();
        this.maxInFlight = loop.config().maxInFlightPerConnection();
        // Hysteresis: resuming at half the limit avoids toggling OP_READ on every response.
        this.resumeAt = maxInFlight / 2;
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public BufferPool pool() {
        return pool;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public LoopContext loop() {
        return loop;
    }

    @Override
    public long queuedResponseBytes() {
        return queuedBytes;
    }

    @Override
    public javax.net.ssl.SSLSession tlsSession() {
        return wire.tlsSession();
    }

    @Override
    public String toString() {
        return "connection " + id + " from " + remoteAddress;
    }

    void opened() {
        try {
            handler.connectionOpened(this);
        } catch (Throwable t) {
            abort("connectionOpened failed", t);
        }
    }

    // ---- reading ----

    void onReadable() throws IOException {
        readFrames();
        if (wire.pending() && state != State.CLOSED) { // handshake messages the socket did not take yet
            writeBlocked = true;
            updateInterest();
        }
        if (wire.bufferedInput() && reading()) {
            // bytes TLS already took from the socket: the selector will not report them, so read on next round
            loop.execute(this::readBuffered);
        }
    }

    private void readBuffered() {
        try {
            if (state != State.CLOSED) {
                onReadable();
            }
        } catch (IOException | RuntimeException e) {
            abort("read failed", e);
        }
    }

    private void readFrames() throws IOException {
        for (int i = 0; i < MAX_READS_PER_EVENT && reading(); i++) {
            if (partial != null) {
                int n = wire.read(partialView);
                if (n < 0) {
                    endOfInput();
                    return;
                }
                if (n == 0) {
                    return;
                }
                lastActive = System.nanoTime();
                if (!partialView.hasRemaining()) {
                    if (partial.segment().byteSize() < partialSize) {
                        growPartial();
                        continue;
                    }
                    Buffer frame = partial;
                    partial = null;
                    partialView = null;
                    dispatch(frame, partialSize);
                }
                continue;
            }
            ByteBuffer buffer = loop.readBuffer;
            buffer.clear();
            buffer.put(carry, 0, carryLength);
            int n = wire.read(buffer);
            if (n < 0) {
                endOfInput();
                return;
            }
            if (n == 0) {
                return;
            }
            lastActive = System.nanoTime();
            carryLength = 0;
            int limit = buffer.position();
            long pos = parse(loop.readSegment, 0, limit);
            keepTail(loop.readSegment, pos, limit, false);
            if (limit < buffer.capacity()) {
                return; // the socket had less than a buffer full: most likely drained
            }
        }
    }

    /** The partial frame's buffer is full but the frame is not: doubles it (up to the frame's size). */
    private void growPartial() {
        Buffer old = partial;
        long have = old.segment().byteSize();
        Buffer bigger = pool.acquire(Math.min(partialSize, have * 2));
        MemorySegment.copy(old.segment(), 0, bigger.segment(), 0, have);
        old.close();
        partial = bigger;
        partialView = bigger.segment().asByteBuffer().position((int) have);
    }

    private boolean reading() {
        return state == State.OPEN && !paused && !awaitingMemory && !inputEnded && !loop.draining();
    }

    /**
     * Dispatches the complete frames in {@code src[pos, limit)} and starts a partial one. Returns
     * where it stopped: at {@code limit}, before fewer than 4 bytes, or at a frame boundary when
     * reading paused or the connection stopped being open.
     */
    private long parse(MemorySegment src, long pos, long limit) {
        while (reading()) {
            long available = limit - pos;
            if (available < SIZE_PREFIX) {
                break;
            }
            int size = src.get(INT_BE, pos);
            if (size < 0 || size > maxFrameSize) {
                LOG.log(Level.WARNING, "closing {0}: frame size {1} outside [0, {2}] (socket.request.max.bytes)",
                        this, size, maxFrameSize);
                close();
                return limit;
            }
            if (!budget.tryReserve(size, loop)) {
                // back-pressure: the frame waits (from its size prefix on) until requests in flight give memory back
                awaitingMemory = true;
                loop.awaitMemory(this);
                updateInterest();
                break;
            }
            long body = available - SIZE_PREFIX;
            // A big frame's buffer grows with the bytes that arrive, so a peer that only announces
            // large frames (on many connections) cannot make the broker allocate their sizes.
            Buffer frame;
            try {
                frame = pool.acquire(body >= size ? size : Math.min(size, Math.max(UPFRONT_FRAME_BYTES, body)));
            } catch (Throwable t) {
                budget.release(size); // no buffer holds it: nothing else would give it back
                throw t;
            }
            if (body >= size) {
                MemorySegment.copy(src, pos + SIZE_PREFIX, frame.segment(), 0, size);
                pos += SIZE_PREFIX + size;
                dispatch(frame, size);
            } else {
                MemorySegment.copy(src, pos + SIZE_PREFIX, frame.segment(), 0, body);
                partial = frame;
                partialSize = size;
                partialView = frame.segment().asByteBuffer().position((int) body);
                return limit;
            }
        }
        return pos;
    }

    /** Keeps the unparsed bytes {@code src[pos, limit)} for later: as a stash or as a carry. */
    private void keepTail(MemorySegment src, long pos, long limit, boolean fromStash) {
        if (pos == limit || state != State.OPEN || inputEnded || loop.draining()) {
            if (fromStash) {
                releaseStash();
            }
        } else if (paused || awaitingMemory) {
            if (fromStash) {
                stashPos = pos;
            } else {
                stash = pool.acquire(limit - pos);
                MemorySegment.copy(src, pos, stash.segment(), 0, limit - pos);
                stashPos = 0;
                stashLimit = limit - pos;
            }
        } else {
            // parse() consumed everything but a split size prefix
            carryLength = (int) (limit - pos);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, pos, carry, 0, carryLength);
            if (fromStash) {
                releaseStash();
            }
        }
    }

    private void endOfInput() {
        // A half-closed peer still gets the responses to requests it sent completely.
        LOG.log(Level.DEBUG, "{0}: end of input", this);
        inputEnded = true;
        releaseInput();
        updateInterest();
        loop.markDirty(this);
    }

    /** Hands a frame to the handler; {@code reserved} is its reservation in the budget. */
    private void dispatch(Buffer frame, long reserved) {
        Slot slot = new Slot(frame, reserved);
        slots.addLast(slot);
        if (++inFlight >= maxInFlight) {
            paused = true;
            updateInterest();
        }
        CompletionStage<Response> stage;
        try {
            stage = handler.handle(this, frame.segment());
            if (stage == null) {
                stage = CompletableFuture.failedFuture(new NullPointerException("handler returned a null stage"));
            }
        } catch (Throwable t) {
            stage = CompletableFuture.failedFuture(t);
        }
        stage.whenComplete((response, failure) -> complete(slot, response, failure));
    }

    // ---- completion (any thread) ----

    private void complete(Slot slot, Response response, Throwable failure) {
        if (loop.inLoop()) {
            onComplete(slot, response, failure);
        } else {
            loop.execute(() -> onComplete(slot, response, failure));
        }
    }

    /** On the loop (or on any thread once the loop terminated and the connection is closed). */
    private void onComplete(Slot slot, Response response, Throwable failure) {
        slot.request.close(); // the stage is done, so the handler is done with the request bytes
        budget.release(slot.reserved);
        if (state == State.CLOSED) {
            discard(response);
            return;
        }
        if (failure == null && response == null) {
            failure = new NullPointerException("handler completed with a null response");
        }
        slot.done = true;
        slot.response = response;
        slot.failure = failure;
        retireCompletedHead();
        loop.markDirty(this);
    }

    /** Moves completed responses at the head of the queue, in order, to the write queue. */
    private void retireCompletedHead() {
        Slot slot;
        while ((slot = slots.peekFirst()) != null && slot.done) {
            slots.pollFirst();
            if (state != State.OPEN) {
                discard(slot.response); // behind a Close
                inFlight--;
            } else if (slot.failure != null) {
                inFlight--;
                LOG.log(Level.WARNING, "closing " + this + ": request handler failed", Frames.unwrap(slot.failure));
                closeAfterFlush();
            } else {
                switch (slot.response) {
                    case Response.Send(Buffer frame) -> queue(frame);
                    case Response.SendAndClose(Buffer frame) -> {
                        if (queue(frame)) {
                            LOG.log(Level.DEBUG, "closing {0} after its last response", this);
                            closeAfterFlush();
                        }
                    }
                    case Response.Parts parts -> {
                        Outgoing out = outgoing(parts);
                        if (out != null) {
                            queue(out);
                        } else {
                            release(parts.release());
                            inFlight--;
                            closeAfterFlush();
                        }
                    }
                    case Response.None none -> inFlight--;
                    case Response.Close(String reason) -> {
                        LOG.log(Level.INFO, "closing {0}: {1}", this, reason);
                        inFlight--;
                        closeAfterFlush();
                    }
                }
            }
        }
    }

    /** Queues a response frame for writing; false (logged, closing) if its size prefix is wrong. */
    private boolean queue(Buffer frame) {
        if (Frames.wellFormed(frame.segment())) {
            queue(new Outgoing(new Object[] {frame.segment().asByteBuffer()}, frame::close));
            return true;
        }
        long n = frame.segment().byteSize();
        LOG.log(Level.ERROR, "closing " + this + ": handler returned a malformed response frame ("
                + n + " bytes, size prefix "
                + (n >= SIZE_PREFIX ? frame.segment().get(INT_BE, 0) : "missing") + ")");
        frame.close();
        inFlight--;
        closeAfterFlush();
        return false;
    }

    private void queue(Outgoing out) {
        outgoing.addLast(out);
        queuedBytes += out.memoryBytes;
    }

    private void release(Outgoing out) {
        out.release();
        queuedBytes -= out.memoryBytes;
    }

    /** The pieces to write, or null (logged) if the size prefix does not match the parts. */
    private Outgoing outgoing(Response.Parts parts) {
        List<Records.Region> list = parts.parts();
        long total = parts.byteSize();
        String problem = null;
        if (list.isEmpty() || !(list.getFirst() instanceof Records.Memory(MemorySegment first))
                || first.byteSize() < SIZE_PREFIX) {
            problem = "no size prefix";
        } else if (total - SIZE_PREFIX > Integer.MAX_VALUE || first.get(INT_BE, 0) != total - SIZE_PREFIX) {
            problem = "size prefix " + first.get(INT_BE, 0) + " for " + (total - SIZE_PREFIX) + " bytes";
        }
        if (problem != null) {
            LOG.log(Level.ERROR, "closing " + this + ": handler returned a malformed multi-part response (" + problem + ")");
            return null;
        }
        Object[] pieces = new Object[list.size()];
        for (int i = 0; i < pieces.length; i++) {
            pieces[i] = switch (list.get(i)) {
                case Records.Memory(MemorySegment bytes) -> bytes.asByteBuffer();
                case Records.FileRegion(FileChannel file, long position, long length) ->
                        new FilePiece(file, position, length);
            };
        }
        return new Outgoing(pieces, parts.release());
    }

    private static void discard(Response response) {
        switch (response) {
            case Response.Send(Buffer frame) -> frame.close();
            case Response.SendAndClose(Buffer frame) -> frame.close();
            case Response.Parts parts -> release(parts.release());
            case null, default -> {
            }
        }
    }

    /** Runs a response's release callback; a failing one is logged, never propagated. */
    private static void release(Runnable release) {
        try {
            release.run();
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "releasing a response failed", t);
        }
    }

    // ---- writing ----

    void onWritable() {
        writeBlocked = false;
        try {
            if (!wire.flush()) {
                writeBlocked = true;
                return;
            }
        } catch (IOException e) {
            abort("write failed", e);
            return;
        }
        flush();
    }

    /** Writes what it can, closes when finished, resumes reading when drained enough. */
    void flush() {
        if (state == State.CLOSED) {
            return;
        }
        if (!outgoing.isEmpty() && !writeBlocked) {
            write();
            if (state == State.CLOSED) {
                return;
            }
        }
        if (outgoing.isEmpty() && !writeBlocked) { // writeBlocked here: TLS records still to go out
            if (state == State.CLOSING) {
                close();
                return;
            }
            if ((inputEnded || loop.draining()) && slots.isEmpty()) {
                close();
                return;
            }
        }
        if (paused && inFlight <= resumeAt && reading0()) {
            resume();
        }
        updateInterest();
    }

    private boolean reading0() {
        return state == State.OPEN && !inputEnded && !loop.draining();
    }

    private void resume() {
        paused = false;
        parseStash();
    }

    /** The budget has memory again (called by the loop): reads on where the waiting frame begins. */
    void memoryAvailable() {
        if (!awaitingMemory || state == State.CLOSED) {
            return;
        }
        awaitingMemory = false;
        if (!paused && reading0()) {
            parseStash();
        }
        updateInterest();
        loop.markDirty(this);
    }

    /** Parses what reading left in the stash when it paused. */
    private void parseStash() {
        if (stash != null) {
            long pos = parse(stash.segment(), stashPos, stashLimit);
            // parse() may have closed the connection, which released the stash
            if (stash != null) {
                keepTail(stash.segment(), pos, stashLimit, true);
            }
        }
        if (wire.bufferedInput() && reading()) {
            loop.execute(this::readBuffered); // TLS holds bytes the selector will not report
        }
    }

    private void write() {
        ByteBuffer[] gather = loop.gather;
        while (retireWritten()) {
            Outgoing head = outgoing.peekFirst();
            if (head.pieces[head.next] instanceof FilePiece f) {
                if (!transfer(f)) {
                    return;
                }
                continue;
            }
            int count = 0;
            long wanted = 0;
            collect:
            for (Outgoing out : outgoing) {
                for (int i = out.next; i < out.pieces.length; i++) {
                    if (!(out.pieces[i] instanceof ByteBuffer b)) {
                        break collect; // a file piece: after these bytes
                    }
                    gather[count++] = b;
                    wanted += b.remaining();
                    if (count == gather.length) {
                        break collect;
                    }
                }
            }
            long written;
            try {
                written = wire.write(gather, 0, count);
            } catch (IOException e) {
                abort("write failed", e);
                return;
            } finally {
                Arrays.fill(gather, 0, count, null);
            }
            if (written > 0) {
                lastActive = System.nanoTime();
            }
            if (written < wanted) {
                retireWritten();
                writeBlocked = true; // socket buffer full: wait for OP_WRITE
                return;
            }
        }
        writeBlocked = wire.pending(); // TLS took every byte but holds records the socket did not take
    }

    /**
     * Sends what the socket takes of a file piece; false if the socket is full (now waiting for
     * OP_WRITE) or the connection was aborted.
     */
    private boolean transfer(FilePiece f) {
        long n;
        try {
            n = wire.transferFrom(f.file, f.position, f.end - f.position);
            if (n == 0 && f.file.size() < f.end) {
                throw new IOException("file ends at " + f.file.size() + ", before the response's file range ["
                        + f.position + ", " + f.end + ")");
            }
        } catch (IOException e) {
            abort("write failed", e);
            return false;
        }
        if (n > 0) {
            lastActive = System.nanoTime();
            f.position += n;
            return true; // more may fit: the next call says (0 when the socket buffer is full)
        }
        writeBlocked = true;
        return false;
    }

    /** Retires the completely written responses at the head; true if something is left to write. */
    private boolean retireWritten() {
        Outgoing head;
        while ((head = outgoing.peekFirst()) != null && head.advance()) {
            outgoing.pollFirst();
            release(head);
            inFlight--;
        }
        return head != null;
    }

    private void updateInterest() {
        if (state == State.CLOSED) {
            return;
        }
        int ops = (reading() ? SelectionKey.OP_READ : 0) | (writeBlocked ? SelectionKey.OP_WRITE : 0);
        if (ops != interestOps) {
            interestOps = ops;
            key.interestOps(ops);
        }
    }

    // ---- closing ----

    /**
     * How long no bytes have moved, or 0 while a handler is still working on a request (a long
     * poll is not idleness). Queued responses do not count as work: a peer that stops reading
     * them is idle too.
     */
    long idleFor(long now) {
        return state != State.CLOSED && slots.isEmpty() ? now - lastActive : 0;
    }

    void startDraining() {
        releaseInput();
        updateInterest();
        loop.markDirty(this);
    }

    /** Stops reading; closes once the responses already queued are written. */
    private void closeAfterFlush() {
        state = State.CLOSING;
        open = false;
        releaseInput();
        updateInterest();
        loop.markDirty(this);
    }

    void abort(String why, Throwable t) {
        if (state == State.CLOSED) {
            return;
        }
        if (t instanceof IOException) {
            LOG.log(Level.DEBUG, "closing {0}: {1}: {2}", this, why, t.getMessage());
        } else {
            LOG.log(Level.WARNING, "closing " + this + ": " + why, t);
        }
        close();
    }

    /** Closes now, releasing every buffer the connection holds. Idempotent. */
    void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        open = false;
        if (key != null) {
            key.cancel();
        }
        Server.close(channel);
        releaseInput();
        for (Outgoing out : outgoing) {
            release(out);
        }
        outgoing.clear();
        for (Slot slot : slots) {
            if (slot.done) {
                discard(slot.response);
            } // else onComplete releases it when the stage completes
        }
        slots.clear();
        inFlight = 0;
        loop.removed(this);
        try {
            handler.connectionClosed(this);
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "connectionClosed failed for " + this, t);
        }
    }

    private void releaseInput() {
        if (partial != null) {
            partial.close();
            budget.release(partialSize);
            partial = null;
            partialView = null;
        }
        releaseStash();
        carryLength = 0;
    }

    private void releaseStash() {
        if (stash != null) {
            stash.close();
            stash = null;
        }
    }
}
