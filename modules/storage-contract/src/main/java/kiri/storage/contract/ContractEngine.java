package kiri.storage.contract;

import java.util.Map;
import java.util.function.Function;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;

/**
 * The one thing an engine's contract test supplies: how to open its store. One instance per test
 * (the suite creates it before and closes it after each test), so every test starts empty.
 *
 * <p>Not thread-safe: the suite calls it from the test thread only.
 */
public interface ContractEngine extends AutoCloseable {

    /**
     * Opens this instance's store with {@code context} (its clock is the test's). The first call sees an
     * empty store; a later call, made after the previous storage was closed, opens the same store again
     * (what it kept is what {@link Capability#REOPEN} tests check).
     */
    Storage open(StorageContext context);

    /** Capabilities this engine lacks, each with the reason (reported as the skip reason). */
    default Map<Capability, String> gaps() {
        return Map.of();
    }

    /** An engine with nothing to free: {@code open} for each open, {@code gaps} as declared. */
    static ContractEngine of(Function<StorageContext, Storage> open, Map<Capability, String> gaps) {
        return new ContractEngine() {
            @Override
            public Storage open(StorageContext context) {
                return open.apply(context);
            }

            @Override
            public Map<Capability, String> gaps() {
                return gaps;
            }
        };
    }

    /** Frees what the store used (a temp directory, a database); the storage itself is already closed. */
    @Override
    default void close() {
    }
}
