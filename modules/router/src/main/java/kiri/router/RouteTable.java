package kiri.router;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import kiri.protocol.message.ApiKey;

/**
 * Which handler serves which API and versions. The broker's ApiVersions answer is derived from
 * this table, so it only ever advertises what is really handled.
 */
public final class RouteTable {
    /** One API's handler and the versions it serves (a subrange of what the codec supports). */
    public record Route(ApiKey api, short minVersion, short maxVersion, Handler handler) {
        public Route {
            if (minVersion < api.lowestVersion || maxVersion > api.highestVersion || minVersion > maxVersion) {
                throw new IllegalArgumentException(api + " versions " + minVersion + "-" + maxVersion
                        + " outside the codec's " + api.lowestVersion + "-" + api.highestVersion);
            }
        }

        public boolean supports(short version) {
            return version >= minVersion && version <= maxVersion;
        }
    }

    private final Map<ApiKey, Route> routes;

    private RouteTable(Map<ApiKey, Route> routes) {
        this.routes = Collections.unmodifiableMap(new EnumMap<>(routes));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The route for {@code api}, or null when the broker does not serve it. */
    public Route find(ApiKey api) {
        return routes.get(api);
    }

    /** All routes in api key order. */
    public List<Route> routes() {
        return new ArrayList<>(routes.values());
    }

    /** A table whose handlers are wrapped by {@code layers}, the first layer outermost. */
    public RouteTable wrap(List<Layer> layers) {
        Map<ApiKey, Route> wrapped = new EnumMap<>(ApiKey.class);
        for (Route r : routes.values()) {
            Handler h = r.handler();
            for (int i = layers.size() - 1; i >= 0; i--) {
                h = layers.get(i).wrap(r.api(), h);
            }
            wrapped.put(r.api(), new Route(r.api(), r.minVersion(), r.maxVersion(), h));
        }
        return new RouteTable(wrapped);
    }

    public static final class Builder {
        private final Map<ApiKey, Route> routes = new EnumMap<>(ApiKey.class);

        /**
         * Serves every stable version the codec supports: like Kafka, a latest version the spec
         * marks unstable is neither advertised nor served unless routed explicitly.
         */
        public Builder route(ApiKey api, Handler handler) {
            short highest = api.latestVersionUnstable ? (short) (api.highestVersion - 1) : api.highestVersion;
            return route(api, api.lowestVersion, highest, handler);
        }

        public Builder route(ApiKey api, short minVersion, short maxVersion, Handler handler) {
            if (routes.put(api, new Route(api, minVersion, maxVersion, handler)) != null) {
                throw new IllegalArgumentException(api + " routed twice");
            }
            return this;
        }

        public RouteTable build() {
            return new RouteTable(routes);
        }
    }
}
