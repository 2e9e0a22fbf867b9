/** The storage SPI: what a Kafka-compatible storage engine answers. */
module kiri.storage.api {
    exports kiri.storage.api;
    exports kiri.storage.api.base;
    uses kiri.storage.api.StorageProvider;
}
