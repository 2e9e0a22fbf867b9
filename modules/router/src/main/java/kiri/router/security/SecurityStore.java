package kiri.router.security;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import kiri.storage.api.ScramCredential;
import kiri.storage.api.SecurityState;
import kiri.storage.api.Storage;

/**
 * The broker's SCRAM credentials and ACLs: read from storage once at startup, served from memory, and written
 * through {@link Storage#saveSecurity} on every change.
 *
 * <p>Threading: reads ({@link #state}, {@link #credential}) are lock-free snapshots from any thread. Changes
 * ({@link #update}) are applied one at a time in call order: each computes its new state from the last one
 * stored, and the new state is what readers see once storage has kept it.
 */
public final class SecurityStore {
    /** One update: the new state (or the same one for "no change") and what to answer the caller. */
    public record Change<T>(SecurityState state, T result) {
    }

    private final Storage storage;
    private volatile SecurityState state;
    private volatile Map<String, ScramCredential> scram;
    /** The tail of the chain of updates: each starts when the previous one is stored (or failed). */
    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

    private SecurityStore(Storage storage, SecurityState state) {
        this.storage = storage;
        publish(state);
    }

    /** Loads the stored state; blocks (startup only). */
    public static SecurityStore open(Storage storage) {
        return new SecurityStore(storage, storage.security().toCompletableFuture().join());
    }

    /** A store that starts empty without reading {@code storage} (handler tests with partial storages). */
    public static SecurityStore empty(Storage storage) {
        return new SecurityStore(storage, SecurityState.EMPTY);
    }

    public SecurityState state() {
        return state;
    }

    /** The user's credential for {@code mechanism}, or null. */
    public ScramCredential credential(String user, ScramMechanism mechanism) {
        return scram.get(key(user, mechanism.mechanismName));
    }

    /**
     * Applies {@code change} to the current state after the updates before it, stores the result and then
     * completes with the change's result; a storage failure completes exceptionally and changes nothing.
     */
    public synchronized <T> CompletionStage<T> update(Function<SecurityState, Change<T>> change) {
        CompletableFuture<T> done = tail.handle((x, e) -> null).thenCompose(ignored -> {
            Change<T> c = change.apply(state);
            if (c.state() == state) {
                return CompletableFuture.completedFuture(c.result());
            }
            return storage.saveSecurity(c.state()).thenApply(v -> {
                publish(c.state());
                return c.result();
            });
        }).toCompletableFuture();
        tail = done;
        return done;
    }

    private void publish(SecurityState s) {
        Map<String, ScramCredential> index = new HashMap<>();
        for (ScramCredential c : s.scram()) {
            index.put(key(c.user(), c.mechanism()), c);
        }
        scram = index;
        state = s;
    }

    private static String key(String user, String mechanism) {
        return mechanism + "\0" + user;
    }
}
