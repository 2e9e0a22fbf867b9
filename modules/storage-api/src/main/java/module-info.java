/** The storage SPI: what a Kafka-compatible storage engine answers. */
module kiri.storage.api {
    requires transitive kiri.protocol; // Records: the regions a fetch returns
    exports kiri.storage.api;
    exports kiri.storage.api.base;
    uses kiri.storage.api.StorageProvider;
}
