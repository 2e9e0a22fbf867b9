package kiri.storage.kit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DataWaitersTest {
    private final AtomicLong end = new AtomicLong(10);
    private final DataWaiters waiters = new DataWaiters(end::get);

    @Test
    void completesAtOnceWhenDataIsThere() {
        assertTrue(waiters.await(9).isDone());
        assertEquals(0, waiters.waiting());
    }

    @Test
    void completesWhenTheEndPassesTheOffset() {
        CompletableFuture<Void> f = waiters.await(10);
        CompletableFuture<Void> later = waiters.await(12);
        assertFalse(f.isDone());
        waiters.signal();
        assertFalse(f.isDone(), "end did not move");
        end.set(11);
        waiters.signal();
        assertTrue(f.isDone());
        assertFalse(later.isDone());
        assertEquals(1, waiters.waiting());
        waiters.wakeAll();
        assertTrue(later.isDone());
        assertEquals(0, waiters.waiting());
    }

    @Test
    void cancelledAndTimedOutWaitersAreForgotten() {
        waiters.await(10).cancel(false);
        // a timeout completes the waiter from elsewhere; completing it here runs the clean-up before we look
        CompletableFuture<Void> t = waiters.await(10);
        t.completeExceptionally(new java.util.concurrent.TimeoutException("max wait passed"));
        assertThrows(Exception.class, t::join);
        assertEquals(0, waiters.waiting());
    }

    @Test
    void noWakeUpIsLostUnderConcurrency() throws Exception {
        // One thread appends and signals, another waits for each next offset; a lost wake-up hangs the test.
        int rounds = 20_000;
        Thread appender = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < rounds; i++) {
                end.incrementAndGet();
                waiters.signal();
            }
        });
        for (long off = 10; off < 10 + rounds; off++) waiters.await(off).get(10, TimeUnit.SECONDS);
        appender.join();
        assertEquals(10 + rounds, end.get());
    }
}
