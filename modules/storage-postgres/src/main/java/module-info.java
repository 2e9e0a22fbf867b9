/**
 * The PostgreSQL storage engine ({@code postgres://USER[:PASSWORD]@HOST:PORT/DB}, also {@code postgresql://}):
 * record batches, offsets and topics in a PostgreSQL database, shipped as a plugin (the engine jar and
 * pgjdbc in {@code target/plugin/}).
 */
module kiri.storage.postgres {
    requires kiri.storage.api;
    requires kiri.storage.kit;
    requires kiri.compress;
    requires java.sql;
    requires org.postgresql.jdbc;
    provides kiri.storage.api.StorageProvider with kiri.storage.postgres.PostgresStorageProvider,
            kiri.storage.postgres.PostgresqlStorageProvider;
}
