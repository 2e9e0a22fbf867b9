/**
 * Sockets, length-prefixed frames in pooled off-heap segments, pipelining with ordered responses,
 * limits and back-pressure. Knows nothing about Kafka messages: see {@link kiri.transport.Server},
 * {@link kiri.transport.RequestHandler} and {@link kiri.transport.ClientConnection}.
 */
module kiri.transport {
    requires transitive kiri.protocol; // Records.Region: the parts of a multi-part response
    exports kiri.transport;
}
