/**
 * Kiri's own Kafka client on its transport and codec: bootstrap with ApiVersions negotiation,
 * metadata, topic admin, an idempotent batching producer and a simple partition consumer.
 */
module kiri.client {
    requires transitive kiri.protocol;
    requires transitive kiri.transport;
    requires kiri.compress;
    exports kiri.client;
}
