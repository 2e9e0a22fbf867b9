package kiri.launcher;

import java.io.IOException;

/** Starts a broker in this JVM on an ephemeral loopback port, for tests that point real clients at it. */
final class InProcessBroker {
    private InProcessBroker() {
    }

    static Broker start(String storageUrl) throws IOException {
        ListenerUrl loopback = new ListenerUrl("127.0.0.1", 0);
        return Broker.start(new Broker.Settings(loopback, loopback, storageUrl, null, 0, true, 1));
    }

    static String bootstrap(Broker broker) {
        return "127.0.0.1:" + broker.localAddress().getPort();
    }
}
