/** The group coordinator (classic groups and KIP-848 consumer groups): membership, assignment, timeouts, committed offsets, over the storage SPI. */
module kiri.coordinator {
    requires transitive kiri.storage.api;
    requires kiri.protocol;
    exports kiri.coordinator;
}
