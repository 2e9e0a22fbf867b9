package kiri.router;

import java.util.List;
import kiri.coordinator.GroupCoordinator;
import kiri.router.broker.Routes;
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
        RouteTable[] table = new RouteTable[1];
        RouteTable routes = Routes.broker(storage, config, () -> table[0], groups, metrics.topics()).build();
        table[0] = routes.wrap(List.of(new RequestLogging(), metrics));
        return new Router(table[0], storage::endRound); // group commit on the event loops
    }
}
