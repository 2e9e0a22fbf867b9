/** The storage SPI: what a Kafka-compatible storage engine answers. Engines build on {@code kiri.storage.kit}. */
module kiri.storage.api {
    exports kiri.storage.api;
    uses kiri.storage.api.StorageProvider;
}
