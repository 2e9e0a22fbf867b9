package kiri.storage.postgres;

import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageProvider;
import kiri.storage.api.StorageUrl;

/** {@code postgresql://...}: the same engine as {@link PostgresStorageProvider}, under libpq's other scheme name. */
public final class PostgresqlStorageProvider implements StorageProvider {

    @Override
    public String scheme() {
        return "postgresql";
    }

    @Override
    public Storage open(StorageUrl url, StorageContext context) {
        return new PostgresStorageProvider().open(url, context);
    }
}
