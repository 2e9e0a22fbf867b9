package kiri.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kiri.protocol.ErrorCode;
import org.junit.jupiter.api.function.Executable;

/**
 * Assertions on Kafka error codes, thrown or carried by a failed stage as a
 * {@code kiri.storage.api.StorageException}.
 *
 * <p>This jar cannot depend on storage-api (storage-api's own tests use it: a Maven cycle), so it
 * reaches {@code StorageException.errorCode()} by reflection; the returned exception is typed by the
 * caller ({@code StorageException e = assertCode(...)}). Codes are compared by {@link ErrorCode} name so
 * a failure reads {@code expected: <UNKNOWN_TOPIC_OR_PARTITION> but was: <TOPIC_ALREADY_EXISTS>}.
 */
public final class Assert {
    private static final String STORAGE_EXCEPTION = "kiri.storage.api.StorageException";

    private Assert() {}

    /** Runs {@code body}, which must throw a StorageException with error {@code expected}; returns it. */
    public static <E extends RuntimeException> E assertCode(ErrorCode expected, Executable body) {
        RuntimeException e = assertThrows(RuntimeException.class, body);
        if (!isStorageException(e)) throw new AssertionError("not a StorageException", e);
        assertEquals(expected.name(), name(errorCode(e)), e.getMessage());
        return cast(e);
    }

    /** Waits for {@code stage}, which must fail with a StorageException with error {@code expected}; returns it. */
    public static <E extends RuntimeException> E assertFails(ErrorCode expected, CompletionStage<?> stage) {
        try {
            Object value = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected " + expected.name() + " but got " + value);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof RuntimeException se) || !isStorageException(se)) {
                throw new AssertionError("not a StorageException", e.getCause());
            }
            assertEquals(expected.name(), name(errorCode(se)), se.getMessage());
            return cast(se);
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    /** The stage's value (waiting up to 10 s); fails the test if it fails. */
    public static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("stage failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends RuntimeException> E cast(RuntimeException e) {
        return (E) e;
    }

    private static boolean isStorageException(Throwable t) {
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getName().equals(STORAGE_EXCEPTION)) return true;
        }
        return false;
    }

    private static short errorCode(RuntimeException e) {
        return (short) invoke(e.getClass(), "errorCode", e);
    }

    private static String name(short code) {
        return ErrorCode.isKnown(code) ? ErrorCode.forCode(code).name() : "ERROR_" + code;
    }

    private static Object invoke(Class<?> type, String method, Object target) {
        try {
            return type.getMethod(method).invoke(target);
        } catch (InvocationTargetException e) {
            throw new AssertionError(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot call " + method + " on " + type.getName(), e);
        }
    }
}
