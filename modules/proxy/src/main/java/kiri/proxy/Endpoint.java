package kiri.proxy;

import java.net.InetSocketAddress;

/** A host and port as brokers advertise them; resolved only when connecting. */
record Endpoint(String host, int port) {
    static Endpoint of(InetSocketAddress address) {
        return new Endpoint(address.getHostString(), address.getPort());
    }

    /** Resolves now: DNS may have changed since the last connect. */
    InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
