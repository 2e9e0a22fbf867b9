package kiri.transport;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Frame layout shared by the server and the client: a 4-byte big-endian size, then the frame. */
final class Frames {
    static final ValueLayout.OfInt INT_BE =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final int SIZE_PREFIX = 4;
    /** Socket read buffer per event loop / client reader; bigger frames are read in place. */
    static final int READ_BUFFER_SIZE = 64 * 1024;
    /** Buffers per gathering write (well below IOV_MAX). */
    static final int MAX_GATHER = 64;

    static final System.Logger LOG = System.getLogger("kiri.transport");

    private Frames() {
    }

    /** True if {@code frame} is a size prefix followed by exactly that many bytes. */
    static boolean wellFormed(MemorySegment frame) {
        long n = frame.byteSize();
        return n >= SIZE_PREFIX && n - SIZE_PREFIX <= Integer.MAX_VALUE
                && frame.get(INT_BE, 0) == n - SIZE_PREFIX;
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
