/** Request dispatch: header decode, route table, layers, and the broker's handlers. */
module kiri.router {
    requires transitive kiri.protocol;
    requires transitive kiri.transport;
    requires transitive kiri.storage.api;
    requires transitive kiri.coordinator;
    requires kiri.compress;

    requires transitive kiri.metrics;
    exports kiri.router;
    exports kiri.router.security;
}
