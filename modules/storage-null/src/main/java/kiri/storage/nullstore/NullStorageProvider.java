package kiri.storage.nullstore;

import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageProvider;
import kiri.storage.api.StorageUrl;

/**
 * The {@code null://} engine: a sink for profiling the protocol layer. Topics, configs, groups,
 * committed offsets, producer ids and transactions live in memory and answer like any engine, so
 * unmodified clients work; record bytes are dropped after their offsets are assigned.
 */
public final class NullStorageProvider implements StorageProvider {

    @Override
    public String scheme() {
        return "null";
    }

    /** @throws IllegalArgumentException if the URL has a location or parameters ({@code null://} takes none) */
    @Override
    public Storage open(StorageUrl url, StorageContext context) {
        if (!url.location().isEmpty()) {
            throw new IllegalArgumentException("storage URL '" + url + "': null:// takes no location");
        }
        url.requireOnlyParams();
        return new NullStorage(context);
    }
}
