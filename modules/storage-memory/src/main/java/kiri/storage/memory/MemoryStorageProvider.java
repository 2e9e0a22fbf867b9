package kiri.storage.memory;

import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageProvider;
import kiri.storage.api.StorageUrl;

/**
 * The {@code memory://} engine: the semantics of a durable engine (stored batches, offsets, idempotent
 * and transactional producers, read_committed, retention, DeleteRecords) with everything in the heap,
 * lost when the broker stops.
 */
public final class MemoryStorageProvider implements StorageProvider {

    @Override
    public String scheme() {
        return "memory";
    }

    /** @throws IllegalArgumentException if the URL has a location or parameters ({@code memory://} takes none) */
    @Override
    public Storage open(StorageUrl url, StorageContext context) {
        if (!url.location().isEmpty()) {
            throw new IllegalArgumentException("storage URL '" + url + "': memory:// takes no location");
        }
        url.requireOnlyParams();
        return new MemoryStorage(context);
    }
}
