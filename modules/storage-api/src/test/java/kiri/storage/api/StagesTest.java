package kiri.storage.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import kiri.protocol.ErrorCode;
import org.junit.jupiter.api.Test;

class StagesTest {

    @Test
    void doneCannotBeCorrupted() {
        CompletableFuture<Void> done = Stages.DONE;
        assertSame(done, done.toCompletableFuture());
        assertFalse(done.completeExceptionally(new RuntimeException()));
        assertFalse(done.cancel(true));
        assertThrows(UnsupportedOperationException.class, () -> done.obtrudeException(new RuntimeException()));
        assertTrue(done.isDone());
        assertFalse(done.isCompletedExceptionally());
        assertNull(done.join());
    }

    @Test
    void failuresCarryKafkaCodes() {
        CompletableFuture<Object> f = Stages.failed(ErrorCode.UNKNOWN_TOPIC_ID, "gone");
        CompletionException e = assertThrows(CompletionException.class, f::join);
        assertEquals(ErrorCode.UNKNOWN_TOPIC_ID.code(), StorageException.errorCodeOf(e));
        assertEquals(ErrorCode.UNKNOWN_SERVER_ERROR.code(), StorageException.errorCodeOf(new IllegalStateException()));
        assertEquals(ErrorCode.NONE.code(), StorageException.errorCodeOf(null));
        assertEquals(ErrorCode.INVALID_CONFIG.code(),
                StorageException.errorCodeOf(Stages.of(() -> { throw new StorageException(ErrorCode.INVALID_CONFIG, "x"); })
                        .handle((v, t) -> t).join()));
        assertEquals("UNKNOWN_TOPIC_ID: gone", new StorageException(ErrorCode.UNKNOWN_TOPIC_ID, "gone").toString());
    }

    @Test
    void fetchResultReleasesOnce() {
        int[] released = {0};
        FetchResult r = new FetchResult(10, 8, 0, java.util.List.of(new kiri.protocol.Records.Memory(java.lang.foreign.MemorySegment.ofArray(new byte[7]))),
                java.util.List.of(), () -> released[0]++);
        assertEquals(7, r.byteSize());
        r.close();
        r.close();
        assertEquals(1, released[0]);
        assertEquals(new PartitionOffsets(0, 8, 10), r.offsets());
        assertEquals(8, r.offsets().fetchableEnd(IsolationLevel.READ_COMMITTED));
    }
}
