package kiri.storage.nullstore;

import kiri.storage.api.StorageProvider;

/** Placeholder. */
public final class NullStorageProvider implements StorageProvider {
}
