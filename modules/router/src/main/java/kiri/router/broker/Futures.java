package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;

/** Small helpers for fanning out storage calls and mapping their failures to Kafka error codes. */
final class Futures {
    private Futures() {
    }

    /** Completes with every result in order once all stages have completed (a failed stage fails the whole). */
    static <T> CompletableFuture<List<T>> all(List<? extends CompletionStage<T>> stages) {
        CompletableFuture<?>[] futures = new CompletableFuture<?>[stages.size()];
        for (int i = 0; i < futures.length; i++) {
            futures[i] = stages.get(i).toCompletableFuture();
        }
        return CompletableFuture.allOf(futures).thenApply(ignored -> {
            List<T> out = new ArrayList<>(futures.length);
            for (CompletableFuture<?> f : futures) {
                @SuppressWarnings("unchecked")
                T t = (T) f.join();
                out.add(t);
            }
            return out;
        });
    }

    /** The Kafka error code for a storage failure (UNKNOWN_SERVER_ERROR for anything unexpected). */
    static short errorCode(Throwable failure) {
        return failure == null ? ErrorCode.NONE.code() : StorageException.errorCodeOf(failure);
    }

    /** The message to show a client for a failure. */
    static String message(Throwable failure) {
        Throwable t = StorageException.unwrap(failure);
        return t == null ? null : t.getMessage();
    }
}
