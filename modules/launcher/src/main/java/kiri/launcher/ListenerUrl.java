package kiri.launcher;

/** A listener address as users write it: {@code tcp://HOST:PORT} (IPv6 hosts in brackets). */
public record ListenerUrl(String host, int port) {
    public static ListenerUrl parse(String url) {
        return parse(url, "tcp");
    }

    /**
     * Parses {@code SCHEME://HOST:PORT} with the given scheme (http for the metrics listener, a listener name such as
     * SASL_SSL for a Kafka-style listener). An empty host ({@code PLAINTEXT://:9092}) means every interface.
     */
    static ListenerUrl parse(String url, String scheme) {
        String prefix = scheme + "://";
        if (url == null || !url.startsWith(prefix)) {
            throw new IllegalArgumentException("listener '" + url + "' must look like " + prefix + "HOST:PORT");
        }
        String rest = url.substring(prefix.length());
        int colon = rest.lastIndexOf(':');
        if (colon < 0 || colon == rest.length() - 1) {
            throw new IllegalArgumentException("listener '" + url + "' must look like " + prefix + "HOST:PORT");
        }
        String host = rest.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(rest.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("listener '" + url + "' has a bad port");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("listener '" + url + "' has a port outside 0-65535");
        }
        return new ListenerUrl(host, port);
    }

    /**
     * The address to advertise when none is configured, as Kafka's advertised.listeners defaults to its
     * listeners: this one, with localhost for a wildcard host (0.0.0.0, ::), which clients cannot dial.
     * Port 0 stays 0: the broker advertises the port it really bound.
     */
    public ListenerUrl advertisable() {
        boolean wildcard = host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
        return wildcard ? new ListenerUrl("localhost", port) : this;
    }

    @Override
    public String toString() {
        return withScheme("tcp");
    }

    /** {@code SCHEME://HOST:PORT}, e.g. {@code SASL_SSL://host:9093}. */
    public String withScheme(String scheme) {
        return scheme + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
