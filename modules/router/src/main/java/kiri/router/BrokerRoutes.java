package kiri.router;

import java.util.List;
import kiri.coordinator.GroupCoordinator;
import kiri.router.broker.AuthorizationLayer;
import kiri.router.broker.CoordinatorLayer;
import kiri.router.broker.Routes;
import kiri.router.security.BrokerSecurity;
import kiri.router.security.Sessions;
import kiri.storage.api.Storage;

/** The broker: every handled API over one storage engine, wrapped in the standard layers. */
public final class BrokerRoutes {
    private BrokerRoutes() {
    }

    /**
     * The broker's router. {@code metrics} is the per-API timing layer (pass a fresh
     * {@link ApiMetrics} and keep it to read the counters).
     */
    public static Router create(Storage storage, BrokerConfig config, ApiMetrics metrics) {
        return create(storage, config, metrics, null);
    }

    /**
     * The broker's router with the group and transaction APIs served by {@code groups} (owned by the
     * caller, who closes it and its timer); {@code null} leaves those APIs out.
     */
    public static Router create(Storage storage, BrokerConfig config, ApiMetrics metrics, GroupCoordinator groups) {
        return create(storage, config, metrics, groups, BrokerSecurity.open(storage),
                Sessions.plaintext(config.advertisedHost(), config.advertisedPort()));
    }

    /**
     * ... with {@code security} (credentials, ACLs) for the connections of the listener {@code sessions} serves;
     * {@link Router#forListener} makes the router of each further listener.
     */
    public static Router create(Storage storage, BrokerConfig config, ApiMetrics metrics, GroupCoordinator groups,
            BrokerSecurity security, Sessions sessions) {
        RouteTable[] table = new RouteTable[1];
        RouteTable routes = Routes.broker(storage, config, () -> table[0], groups, metrics.topics(), security).build();
        table[0] = routes.wrap(List.of(new RequestLogging(), metrics, new AuthorizationLayer(security), new CoordinatorLayer(storage)));
        return new Router(table[0], storage::endRound, sessions); // group commit on the event loops
    }
}
