package kiri.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class BufferPoolTest {

    @Test
    void segmentsHaveExactlyTheRequestedSize() {
        try (BufferPool pool = new BufferPool(64, 4096, 1 << 20)) {
            for (long size : new long[] {0, 1, 63, 64, 65, 127, 128, 129, 1000, 4095, 4096, 4097, 100_000}) {
                try (Buffer b = pool.acquire(size)) {
                    assertEquals(size, b.segment().byteSize(), "size " + size);
                    b.segment().fill((byte) 7); // the whole slice is writable
                }
            }
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void closedBlocksAreReusedWithinTheirSizeClass() {
        try (BufferPool pool = new BufferPool(64, 4096, 1 << 20)) {
            Buffer first = pool.acquire(100); // class 128
            long address = first.segment().address();
            first.close();
            try (Buffer sameClass = pool.acquire(120)) {
                assertEquals(address, sameClass.segment().address(), "128-byte block reused");
                assertEquals(120, sameClass.segment().byteSize());
                try (Buffer otherClass = pool.acquire(300)) {
                    assertNotEquals(address, otherClass.segment().address());
                }
            }
            assertEquals(128 + 512, pool.pooledBytes(), "one block per class, nothing else allocated");
            for (int i = 0; i < 1000; i++) {
                pool.acquire(128).close();
            }
            assertEquals(128 + 512, pool.pooledBytes(), "steady state allocates nothing new");
            assertEquals(1003, pool.acquireCount());
        }
    }

    @Test
    void requestsAboveTheLargestClassAreNotPooled() {
        try (BufferPool pool = new BufferPool(64, 4096, 1 << 20)) {
            Buffer big = pool.acquire(4097);
            assertEquals(4097, big.segment().byteSize());
            assertEquals(0, pool.pooledBytes());
            assertEquals(1, pool.outstanding());
            big.close();
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void pooledMemoryIsCappedAndOverflowStillWorks() {
        try (BufferPool pool = new BufferPool(64, 1024, 2048)) {
            Buffer a = pool.acquire(1024);
            Buffer b = pool.acquire(1000);
            Buffer c = pool.acquire(1024); // over the cap: GC-managed
            assertEquals(2048, pool.pooledBytes());
            assertEquals(1024, c.segment().byteSize());
            c.segment().fill((byte) 1);
            assertEquals(3, pool.outstanding());
            a.close();
            b.close();
            c.close();
            assertEquals(0, pool.outstanding());
            pool.acquire(1024).close();
            assertEquals(2048, pool.pooledBytes(), "reuses a freed block rather than growing");
        }
    }

    @Test
    void closingTwiceIsAnError() {
        try (BufferPool pool = new BufferPool()) {
            Buffer b = pool.acquire(10);
            b.close();
            assertThrows(IllegalStateException.class, b::close);
            assertEquals(0, pool.outstanding(), "the second close did not count");
        }
    }

    @Test
    void rejectsBadArgumentsAndUseAfterClose() {
        assertThrows(IllegalArgumentException.class, () -> new BufferPool(48, 4096, 0));
        assertThrows(IllegalArgumentException.class, () -> new BufferPool(64, 32, 0));
        assertThrows(IllegalArgumentException.class, () -> new BufferPool(64, 4096, -1));
        BufferPool pool = new BufferPool();
        assertThrows(IllegalArgumentException.class, () -> pool.acquire(-1));
        Buffer held = pool.acquire(10);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.acquire(10));
        assertThrows(IllegalStateException.class, () -> held.segment().get(ValueLayout.JAVA_BYTE, 0),
                "memory is freed with the pool");
        held.close(); // harmless
        pool.close(); // idempotent
    }

    @Test
    void concurrentOwnersNeverShareMemory() throws Exception {
        try (BufferPool pool = new BufferPool(64, 8192, 16 << 20);
                ExecutorService threads = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                byte mark = (byte) (t + 1);
                done.add(threads.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    MemorySegment expected = MemorySegment.ofArray(new byte[9000]).fill(mark);
                    List<Buffer> held = new ArrayList<>();
                    for (int i = 0; i < 20_000; i++) {
                        Buffer b = pool.acquire(random.nextInt(1, 9000));
                        b.segment().fill(mark);
                        held.add(b);
                        if (held.size() > 8 || random.nextBoolean()) {
                            Buffer victim = held.remove(random.nextInt(held.size()));
                            long size = victim.segment().byteSize();
                            if (victim.segment().mismatch(expected.asSlice(0, size)) != -1) {
                                throw new AssertionError("buffer overwritten by another owner");
                            }
                            victim.close();
                        }
                    }
                    held.forEach(Buffer::close);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            assertEquals(0, pool.outstanding());
        }
    }
}
