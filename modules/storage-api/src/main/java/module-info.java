/** The storage SPI: what a Kafka-compatible storage engine answers. Engines build on {@code kiri.storage.kit}. */
module kiri.storage.api {
    requires transitive kiri.protocol; // Records: the regions a fetch returns
    exports kiri.storage.api;
    uses kiri.storage.api.StorageProvider;
}
