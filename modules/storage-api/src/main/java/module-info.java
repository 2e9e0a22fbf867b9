/**
 * The storage SPI: what a Kafka-compatible storage engine answers. Engines build on {@code kiri.storage.kit}.
 * It requires {@code kiri.protocol} (pure: no I/O, no threads) for the one vocabulary every module shares:
 * {@code ErrorCode}, the record-batch flyweight, the control-batch writer and the {@code Records} regions a
 * fetch returns.
 */
module kiri.storage.api {
    requires transitive kiri.protocol;
    exports kiri.storage.api;
    uses kiri.storage.api.StorageProvider;
}
