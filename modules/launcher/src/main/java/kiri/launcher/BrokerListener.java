package kiri.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiri.router.security.SecurityProtocol;

/**
 * One listener of a broker: its name, security protocol, where it binds and what it advertises. Parsed from
 * Kafka's notation: {@code listeners=PLAINTEXT://:9092,SASL_SSL://0.0.0.0:9093}, {@code advertised.listeners}
 * with the same names, and {@code listener.security.protocol.map=CLIENT:SASL_SSL,...} for names that are not
 * protocols themselves. Kiri's {@code tcp://HOST:PORT} means a listener named PLAINTEXT.
 *
 * @param bind where to listen (host "" or 0.0.0.0 for every interface; port 0 for an ephemeral one)
 * @param advertised what clients are told (port 0: the port really bound)
 */
public record BrokerListener(String name, SecurityProtocol protocol, ListenerUrl bind, ListenerUrl advertised) {

    /** A PLAINTEXT listener, as {@code tcp://} URLs have always meant. */
    public static BrokerListener plaintext(ListenerUrl bind, ListenerUrl advertised) {
        return new BrokerListener("PLAINTEXT", SecurityProtocol.PLAINTEXT, bind, advertised);
    }

    /**
     * The listeners of {@code listeners} with their advertised addresses from {@code advertised} (null or blank:
     * each listener's own address, with localhost for a wildcard host).
     *
     * @param protocolMap {@code listener.security.protocol.map} (null or blank: each name is its protocol)
     * @throws IllegalArgumentException one clear line naming what is wrong
     */
    public static List<BrokerListener> parse(String listeners, String advertised, String protocolMap) {
        Map<String, SecurityProtocol> protocols = protocolMap(protocolMap);
        Map<String, ListenerUrl> binds = endpoints("listeners", listeners);
        Map<String, ListenerUrl> adverts = advertised == null || advertised.isBlank() ? Map.of()
                : endpoints("advertised.listeners", advertised);
        for (String name : adverts.keySet()) {
            if (!binds.containsKey(name)) {
                throw new IllegalArgumentException("advertised listener " + name + " is not one of the listeners "
                        + binds.keySet());
            }
        }
        List<BrokerListener> out = new ArrayList<>();
        for (var e : binds.entrySet()) {
            String name = e.getKey();
            SecurityProtocol protocol = protocols.containsKey(name) ? protocols.get(name) : SecurityProtocol.forName(name);
            if (protocol == null) {
                throw new IllegalArgumentException("listener " + name + " has no security protocol: name one of "
                        + "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL, or map it in listener.security.protocol.map");
            }
            ListenerUrl advert = adverts.getOrDefault(name, e.getValue().advertisable());
            out.add(new BrokerListener(name, protocol, e.getValue(), advert));
        }
        return out;
    }

    private static Map<String, SecurityProtocol> protocolMap(String map) {
        Map<String, SecurityProtocol> out = new LinkedHashMap<>();
        if (map == null || map.isBlank()) {
            return out;
        }
        for (String entry : map.split(",")) {
            String[] kv = entry.strip().split(":", 2);
            SecurityProtocol p = kv.length == 2 ? SecurityProtocol.forName(kv[1].strip()) : null;
            if (p == null) {
                throw new IllegalArgumentException("listener.security.protocol.map entry '" + entry.strip()
                        + "' must look like NAME:PROTOCOL (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)");
            }
            out.put(kv[0].strip().toUpperCase(java.util.Locale.ROOT), p);
        }
        return out;
    }

    private static Map<String, ListenerUrl> endpoints(String what, String list) {
        Map<String, ListenerUrl> out = new LinkedHashMap<>();
        for (String item : list.split(",")) {
            String url = item.strip();
            if (url.isEmpty()) {
                continue;
            }
            int scheme = url.indexOf("://");
            if (scheme <= 0) {
                throw new IllegalArgumentException("listener '" + url + "' must look like tcp://HOST:PORT or NAME://HOST:PORT"
                        + " (NAME as in Kafka's " + what + ", e.g. SASL_SSL://:9093)");
            }
            String name = url.substring(0, scheme).toUpperCase(java.util.Locale.ROOT);
            if (name.equals("TCP")) {
                name = "PLAINTEXT";
            }
            ListenerUrl endpoint = ListenerUrl.parse(url, url.substring(0, scheme));
            if (out.put(name, endpoint) != null) {
                throw new IllegalArgumentException(what + " names listener " + name + " twice");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty");
        }
        return out;
    }

    /** {@code NAME://HOST:PORT}. */
    @Override
    public String toString() {
        return name + bind.toString().substring("tcp".length());
    }
}
