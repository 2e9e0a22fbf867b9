package kiri.launcher;

import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * An in-process broker for consumer-group tests, with an Admin on it and group timeouts shortened
 * through the launcher's system-property overrides (set before the broker starts, cleared on close).
 */
record GroupTestBroker(Broker broker, String bootstrap, Admin admin, Set<String> properties) implements AutoCloseable {
    /** Classic groups: sessions from 1 s, no initial rebalance delay. */
    static final Map<String, String> SHORT_CLASSIC_TIMEOUTS = Map.of(
            "kiri.group.min.session.timeout.ms", "1000",
            "kiri.group.initial.rebalance.delay.ms", "0");

    static GroupTestBroker start(String storageUrl, Map<String, String> properties) throws IOException {
        properties.forEach(System::setProperty);
        Broker broker = InProcessBroker.start(storageUrl);
        String bootstrap = InProcessBroker.bootstrap(broker);
        return new GroupTestBroker(broker, bootstrap,
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap)), properties.keySet());
    }

    @Override
    public void close() {
        admin.close();
        broker.close();
        properties.forEach(System::clearProperty);
    }
}
