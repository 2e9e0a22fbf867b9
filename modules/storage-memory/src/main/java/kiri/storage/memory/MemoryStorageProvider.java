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

    /**
     * {@code memory://} or {@code memory://?max.bytes=N} (see {@link MemoryCap}).
     *
     * @throws IllegalArgumentException if the URL has a location, another parameter or a bad {@code max.bytes}
     */
    @Override
    public Storage open(StorageUrl url, StorageContext context) {
        if (!url.location().isEmpty()) {
            throw new IllegalArgumentException("storage URL '" + url + "': memory:// takes no location");
        }
        url.requireOnlyParams("max.bytes");
        return new MemoryStorage(context, MemoryCap.parse(url.param("max.bytes", null), url.raw()));
    }
}
