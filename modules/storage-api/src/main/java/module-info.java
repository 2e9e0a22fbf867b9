/**
 * The storage SPI: what a Kafka-compatible storage engine answers. It requires {@code kiri.protocol}
 * (pure: no I/O, no threads) for the one vocabulary every module shares: {@code ErrorCode}, the
 * record-batch flyweight and the control-batch writer.
 */
module kiri.storage.api {
    requires transitive kiri.protocol;
    exports kiri.storage.api;
    exports kiri.storage.api.base;
    uses kiri.storage.api.StorageProvider;
}
