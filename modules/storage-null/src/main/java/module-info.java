/** The null storage engine ({@code null://}): remembers topics, discards records. */
module kiri.storage.nullstore {
    requires kiri.storage.api;
    requires kiri.storage.kit;
    provides kiri.storage.api.StorageProvider with kiri.storage.nullstore.NullStorageProvider;
}
