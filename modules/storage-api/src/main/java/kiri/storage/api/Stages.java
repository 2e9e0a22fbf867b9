package kiri.storage.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import kiri.protocol.ErrorCode;

/** Cheap completion stages for engines that answer synchronously. */
public final class Stages {
    private Stages() {}

    /**
     * A shared, already-completed {@code CompletionStage<Void>}: what an in-memory engine returns from
     * {@link Storage#produce} without allocating. It is a {@link CompletableFuture} (so
     * {@code toCompletableFuture()} is free and {@code isDone()} is a field read) that refuses every
     * attempt to complete, cancel or obtrude it, so no caller can corrupt it for the others.
     */
    public static final CompletableFuture<Void> DONE = new Done();

    /** A stage failed with a {@link StorageException} carrying {@code error}. */
    public static <T> CompletableFuture<T> failed(ErrorCode error, String message) {
        return CompletableFuture.failedFuture(new StorageException(error, message));
    }

    /** A stage failed with {@code failure}. */
    public static <T> CompletableFuture<T> failed(Throwable failure) {
        return CompletableFuture.failedFuture(failure);
    }

    /**
     * Runs {@code body} and returns its value as a completed stage, or a failed one if it throws: lets
     * synchronous engine code report a {@link StorageException} through the stage as the SPI requires.
     */
    public static <T> CompletableFuture<T> of(Supplier<T> body) {
        try {
            return CompletableFuture.completedFuture(body.get());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Whether {@code stage} has already completed (normally or not), without allocating for CompletableFutures. */
    public static boolean isDone(CompletionStage<?> stage) {
        return stage.toCompletableFuture().isDone();
    }

    private static final class Done extends CompletableFuture<Void> {
        Done() {
            super.complete(null);
        }

        @Override
        public boolean complete(Void value) {
            return false;
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            return false;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            return false;
        }

        @Override
        public void obtrudeValue(Void value) {
            throw new UnsupportedOperationException("Stages.DONE is shared and immutable");
        }

        @Override
        public void obtrudeException(Throwable ex) {
            throw new UnsupportedOperationException("Stages.DONE is shared and immutable");
        }

        @Override
        public CompletableFuture<Void> completeAsync(Supplier<? extends Void> supplier, Executor executor) {
            return this;
        }

        @Override
        public CompletableFuture<Void> completeOnTimeout(Void value, long timeout, TimeUnit unit) {
            return this;
        }

        @Override
        public CompletableFuture<Void> orTimeout(long timeout, TimeUnit unit) {
            return this;
        }
    }
}
