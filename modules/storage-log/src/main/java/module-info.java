/** The durable log engine ({@code file:PATH}): append-only segment files with offset and time indexes. */
module kiri.storage.log {
    requires kiri.storage.api;
    requires kiri.storage.kit;
    requires kiri.protocol;
    requires kiri.compress;
    requires kiri.metrics;

    requires kiri.storage.compaction;
    provides kiri.storage.api.StorageProvider with kiri.storage.log.LogStorageProvider;
}
