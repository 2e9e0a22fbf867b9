package kiri.storage.api;

/** Placeholder for the storage SPI. */
public interface StorageProvider {
}
