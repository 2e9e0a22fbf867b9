package kiri.launcher;

import java.io.IOException;
import java.nio.file.Path;

/** Starts a broker in this JVM on an ephemeral loopback port, for tests that point real clients at it. */
final class InProcessBroker {
    private InProcessBroker() {
    }

    static Broker start(String storageUrl) throws IOException {
        return start(storageUrl, 0);
    }

    /** A broker on {@code port} (e.g. the one a stopped broker had: clients reconnect to the same address). */
    static Broker start(String storageUrl, int port) throws IOException {
        ListenerUrl same = new ListenerUrl("127.0.0.1", port);
        return Broker.start(new Broker.Settings(same, same, storageUrl, null, 0, true, 1));
    }

    /**
     * A broker for a test parameterized by storage ("file:" alone means a fresh log under {@code dir}),
     * whose groups rebalance without waiting for more members (group.initial.rebalance.delay.ms=0).
     */
    static Broker startForClients(String storage, Path dir) throws IOException {
        String url = storage.equals("file:") ? "file:" + dir.resolve("data") : storage;
        ListenerUrl loopback = new ListenerUrl("127.0.0.1", 0);
        return Broker.start(new Broker.Settings(loopback, loopback, url, null, 0, true, 1, 0));
    }

    static String bootstrap(Broker broker) {
        return "127.0.0.1:" + broker.localAddress().getPort();
    }
}
