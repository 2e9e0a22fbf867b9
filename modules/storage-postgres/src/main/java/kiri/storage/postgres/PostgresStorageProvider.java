package kiri.storage.postgres;

import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageProvider;
import kiri.storage.api.StorageUrl;

/**
 * The {@code postgres://USER[:PASSWORD]@HOST[:PORT]/DB} engine: topics and record batches in PostgreSQL
 * ({@code ?password-file=PATH}, else {@code PGPASSWORD}, supplies a password not in the URL; {@code ?pool=N}
 * sets the number of connections).
 */
public final class PostgresStorageProvider implements StorageProvider {

    @Override
    public String scheme() {
        return "postgres";
    }

    /** Connects and prepares the schema; blocks. */
    @Override
    public Storage open(StorageUrl url, StorageContext context) {
        return PgStorage.open(context, PgConfig.parse(url, System.getenv()));
    }
}
