/** The memory storage engine ({@code memory://}): keeps every record batch in memory, until the broker stops. */
module kiri.storage.memory {
    requires kiri.storage.api;
    requires kiri.storage.kit;
    requires kiri.compress;
    requires kiri.storage.compaction;
    provides kiri.storage.api.StorageProvider with kiri.storage.memory.MemoryStorageProvider;
}
