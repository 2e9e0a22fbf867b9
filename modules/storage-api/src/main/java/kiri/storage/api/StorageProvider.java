package kiri.storage.api;

/**
 * A storage engine, found with {@link java.util.ServiceLoader}: each engine module declares
 * {@code provides kiri.storage.api.StorageProvider with ...}; {@link Storages#open} picks one by the
 * scheme of the {@code --storage} URL.
 *
 * <p>Lifecycle: the broker instantiates every provider on the module path (so constructors must be
 * cheap and side-effect free), calls {@link #scheme()} on each, then {@link #open} once on the chosen one.
 */
public interface StorageProvider {

    /** The URL scheme this engine answers, lower case: {@code "null"}, {@code "memory"}, {@code "file"}, ... */
    String scheme();

    /**
     * Opens (creating if needed) the storage the URL names. Called once, from the launcher's thread,
     * before the broker accepts connections; it may block (recovery, connecting). The broker closes
     * the returned storage on shutdown.
     *
     * @throws IllegalArgumentException for a URL this engine cannot use (bad location, unknown parameter),
     *                                  with a one-line message the launcher prints as is
     * @throws StorageException         when the storage exists but cannot be opened (I/O, inconsistent cluster id)
     */
    Storage open(StorageUrl url, StorageContext context);
}
