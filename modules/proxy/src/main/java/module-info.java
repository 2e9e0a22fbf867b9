/**
 * A Kafka protocol proxy: clients connect to it as if it were the cluster. Frames pass through
 * opaque; responses that name brokers (Metadata, FindCoordinator, DescribeCluster) are rewritten to
 * point at the proxy, which opens one listener per origin broker. See {@link kiri.proxy.Proxy}.
 */
module kiri.proxy {
    requires transitive kiri.transport;
    requires kiri.protocol;
    exports kiri.proxy;
}
