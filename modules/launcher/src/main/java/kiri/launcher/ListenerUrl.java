package kiri.launcher;

/** A listener address as users write it: {@code tcp://HOST:PORT} (IPv6 hosts in brackets). */
public record ListenerUrl(String host, int port) {
    public static ListenerUrl parse(String url) {
        String prefix = "tcp://";
        if (url == null || !url.startsWith(prefix)) {
            throw new IllegalArgumentException("listener '" + url + "' must look like tcp://HOST:PORT");
        }
        String rest = url.substring(prefix.length());
        int colon = rest.lastIndexOf(':');
        if (colon <= 0 || colon == rest.length() - 1) {
            throw new IllegalArgumentException("listener '" + url + "' must look like tcp://HOST:PORT");
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

    @Override
    public String toString() {
        return "tcp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
