/** The classic group coordinator: membership, rebalances, session timeouts, committed offsets, over the storage SPI. */
module kiri.coordinator {
    requires transitive kiri.storage.api;
    exports kiri.coordinator;
}
