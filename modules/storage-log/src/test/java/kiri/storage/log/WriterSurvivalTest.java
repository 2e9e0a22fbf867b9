package kiri.storage.log;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.time.InstantSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kiri.storage.api.StorageException;
import org.junit.jupiter.api.Test;

/** The writer thread outlives a round that throws: the round's appends fail, later ones are still handled. */
class WriterSurvivalTest {
    /** An append whose round throws outside the per-append catch (publishing its failure has no partition). */
    private static Writer.Append poison(CompletableFuture<Void> done) {
        return new Writer.Append(null, MemorySegment.ofArray(new byte[1]), 0, 1, done, -1L);
    }

    @Test
    void aRoundThatThrowsFailsItsAppendsAndTheThreadGoesOn() throws Exception {
        Writer writer = new Writer(new FsyncMode.Always(), InstantSource.system(), "writer-survival-test");
        writer.start();
        try {
            for (int round = 0; round < 3; round++) {
                CompletableFuture<Void> done = new CompletableFuture<>();
                writer.submit(poison(done));
                ExecutionException e = assertThrows(ExecutionException.class, () -> done.get(60, TimeUnit.SECONDS),
                        "round " + round + " answered");
                assertInstanceOf(StorageException.class, e.getCause());
            }
        } finally {
            writer.stop();
        }
    }
}
