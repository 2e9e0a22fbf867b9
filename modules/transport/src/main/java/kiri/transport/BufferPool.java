package kiri.transport;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Long-lived pool of off-heap buffers in power-of-two size classes.
 *
 * <p>Pooled blocks come from one long-lived shared {@link Arena} owned by the pool: memory is
 * allocated on demand, kept for reuse, and freed only by {@link #close()} (closing a shared arena is
 * a global handshake, so it must never happen per request). {@link #acquire} hands out an exact-size
 * slice of a block of the smallest class that fits. Requests larger than the largest class get an arena of
 * their own, freed when the buffer is closed; requests that would grow the pooled memory beyond
 * {@code maxPooledBytes} get a GC-managed ({@link Arena#ofAuto()}) segment, which closing merely drops.
 *
 * <p>Thread-safe: buffers may be acquired on one thread and closed on another. Free blocks are kept
 * LIFO per class so recently used (cache-warm) memory is reused first.
 */
public final class BufferPool implements AutoCloseable {
    public static final long DEFAULT_SMALLEST_CLASS = 64;
    /** 4 MiB: above Kafka's default max.request.size (1 MiB) and typical fetch responses. */
    public static final long DEFAULT_LARGEST_CLASS = 4L << 20;
    public static final long DEFAULT_MAX_POOLED_BYTES = 64L << 20;
    private static final long ALIGNMENT = Long.BYTES;

    private final Arena arena = Arena.ofShared();
    private final int smallestShift;
    private final long largestClass;
    private final long maxPooledBytes;
    private final FreeList[] freeLists;
    private final AtomicLong pooledBytes = new AtomicLong();
    private final LongAdder acquired = new LongAdder();
    private final LongAdder released = new LongAdder();
    private final LongAdder outstandingBytes = new LongAdder();
    private volatile boolean closed;

    /** A pool with the default classes (64 B to 4 MiB) holding at most 64 MiB. */
    public BufferPool() {
        this(DEFAULT_SMALLEST_CLASS, DEFAULT_LARGEST_CLASS, DEFAULT_MAX_POOLED_BYTES);
    }

    /**
     * @param smallestClass size of the smallest class, a power of two
     * @param largestClass size of the largest class, a power of two {@code >= smallestClass}
     * @param maxPooledBytes cap on the off-heap memory the pool allocates and retains
     */
    public BufferPool(long smallestClass, long largestClass, long maxPooledBytes) {
        if (smallestClass <= 0 || Long.bitCount(smallestClass) != 1
                || largestClass < smallestClass || Long.bitCount(largestClass) != 1) {
            throw new IllegalArgumentException("size classes must be powers of two with smallest <= largest, got "
                    + smallestClass + " and " + largestClass);
        }
        if (maxPooledBytes < 0) {
            throw new IllegalArgumentException("maxPooledBytes must be >= 0, got " + maxPooledBytes);
        }
        this.smallestShift = Long.numberOfTrailingZeros(smallestClass);
        this.largestClass = largestClass;
        this.maxPooledBytes = maxPooledBytes;
        this.freeLists = new FreeList[Long.numberOfTrailingZeros(largestClass) - smallestShift + 1];
        for (int i = 0; i < freeLists.length; i++) {
            freeLists[i] = new FreeList();
        }
    }

    /**
     * Returns a buffer whose {@code segment().byteSize() == size} exactly; its contents are
     * unspecified (reused memory is not cleared).
     *
     * @throws IllegalArgumentException if {@code size < 0}
     * @throws IllegalStateException if the pool is closed
     */
    public Buffer acquire(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0, got " + size);
        }
        if (closed) {
            throw new IllegalStateException("buffer pool is closed");
        }
        acquired.increment();
        outstandingBytes.add(size);
        if (size > largestClass) {
            return large(size);
        }
        int index = classIndex(size);
        MemorySegment block = freeLists[index].pop();
        if (block == null) {
            block = allocateBlock(1L << (index + smallestShift));
            if (block == null) {
                return new Unpooled(this, null, Arena.ofAuto().allocate(size, ALIGNMENT));
            }
        }
        return new Pooled(this, index, block, block.asSlice(0, size));
    }

    /**
     * A buffer above the largest class, in an arena of its own that {@link Buffer#close()} closes: its memory goes
     * back to the system at once, not at some later GC (a 100 MiB frame must not linger). Closing a shared arena is
     * a handshake with every thread, affordable at these sizes only.
     */
    private Buffer large(long size) {
        Arena own = Arena.ofShared();
        try {
            return new Unpooled(this, own, own.allocate(size, ALIGNMENT));
        } catch (RuntimeException | OutOfMemoryError e) {
            acquired.decrement();
            outstandingBytes.add(-size);
            own.close();
            throw e;
        }
    }

    /** Size of the smallest class. */
    public long smallestClass() {
        return 1L << smallestShift;
    }

    /** Size of the largest class; bigger requests get GC-managed segments. */
    public long largestClass() {
        return largestClass;
    }

    /** Off-heap bytes the pool has allocated from its arena (in use or free). */
    public long pooledBytes() {
        return pooledBytes.get();
    }

    /** Total number of {@link #acquire} calls so far. */
    public long acquireCount() {
        return acquired.sum();
    }

    /** Buffers acquired and not yet closed: 0 when every owner has released its buffers. */
    public long outstanding() {
        return acquired.sum() - released.sum();
    }

    /** Bytes of the buffers acquired and not yet closed (their exact sizes, not their size classes). */
    public long outstandingBytes() {
        return outstandingBytes.sum();
    }

    /**
     * Frees the pooled memory. Buffers still outstanding become inaccessible (access throws
     * {@link IllegalStateException}); closing them afterwards is harmless. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (FreeList list : freeLists) {
            list.clear();
        }
        arena.close();
    }

    @Override
    public String toString() {
        return "BufferPool[classes " + smallestClass() + ".." + largestClass + ", pooled "
                + pooledBytes() + "/" + maxPooledBytes + " bytes, outstanding " + outstanding() + "]";
    }

    private int classIndex(long size) {
        if (size <= 1L << smallestShift) {
            return 0;
        }
        return Long.SIZE - Long.numberOfLeadingZeros(size - 1) - smallestShift;
    }

    /** A new block, or null if that would exceed {@code maxPooledBytes}. */
    private MemorySegment allocateBlock(long classSize) {
        long current;
        do {
            current = pooledBytes.get();
            if (current + classSize > maxPooledBytes) {
                return null;
            }
        } while (!pooledBytes.compareAndSet(current, current + classSize));
        try {
            return arena.allocate(classSize, ALIGNMENT);
        } catch (RuntimeException | OutOfMemoryError e) {
            pooledBytes.addAndGet(-classSize);
            throw e;
        }
    }

    private void release(int index, MemorySegment block) {
        released.increment();
        if (!closed) {
            freeLists[index].push(block);
        }
    }

    /**
     * LIFO stack of free blocks of one class. A plain monitor: uncontended locking is cheap, and
     * with a handful of event loops contention is rare.
     */
    private static final class FreeList {
        private final ArrayDeque<MemorySegment> blocks = new ArrayDeque<>();

        synchronized MemorySegment pop() {
            return blocks.pollFirst();
        }

        synchronized void push(MemorySegment block) {
            blocks.addFirst(block);
        }

        synchronized void clear() {
            blocks.clear();
        }
    }

    /** Guards against double close: a block returned twice would get two owners. */
    private abstract static sealed class Owned implements Buffer permits Pooled, Unpooled {
        private static final VarHandle CLOSED;

        static {
            try {
                CLOSED = MethodHandles.lookup().findVarHandle(Owned.class, "closed", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final BufferPool pool;
        private final MemorySegment segment;
        private volatile boolean closed; // accessed through CLOSED

        Owned(BufferPool pool, MemorySegment segment) {
            this.pool = pool;
            this.segment = segment;
        }

        @Override
        public final MemorySegment segment() {
            return segment;
        }

        @Override
        public final void close() {
            if (!CLOSED.compareAndSet(this, false, true)) {
                throw new IllegalStateException("buffer already closed");
            }
            pool.outstandingBytes.add(-segment.byteSize());
            released();
        }

        abstract void released();

        @Override
        public String toString() {
            return getClass().getSimpleName() + "[" + segment.byteSize() + " bytes]";
        }
    }

    private static final class Pooled extends Owned {
        private final int index;
        private final MemorySegment block;

        Pooled(BufferPool pool, int index, MemorySegment block, MemorySegment segment) {
            super(pool, segment);
            this.index = index;
            this.block = block;
        }

        @Override
        void released() {
            pool.release(index, block);
        }
    }

    private static final class Unpooled extends Owned {
        /** The buffer's own arena (closed with it), or null for a GC-managed segment. */
        private final Arena own;

        Unpooled(BufferPool pool, Arena own, MemorySegment segment) {
            super(pool, segment);
            this.own = own;
        }

        @Override
        void released() {
            pool.released.increment();
            if (own != null) {
                own.close();
            }
        }
    }
}
