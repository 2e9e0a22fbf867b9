package kiri.storage.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.StorageException;
import org.junit.jupiter.api.function.Executable;

/** Assertions on Kafka error codes, thrown or carried by a failed stage. */
final class Assert {
    private Assert() {}

    static StorageException assertCode(short expected, Executable body) {
        StorageException e = assertThrows(StorageException.class, body);
        assertEquals(ErrorCodes.name(expected), ErrorCodes.name(e.errorCode()), e.getMessage());
        return e;
    }

    static StorageException assertFails(short expected, CompletionStage<?> stage) {
        try {
            Object value = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected " + ErrorCodes.name(expected) + " but got " + value);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof StorageException se)) throw new AssertionError("not a StorageException", e.getCause());
            assertEquals(ErrorCodes.name(expected), ErrorCodes.name(se.errorCode()), se.getMessage());
            return se;
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("stage failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }
}
