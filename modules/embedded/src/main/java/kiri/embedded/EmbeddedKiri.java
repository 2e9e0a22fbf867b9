package kiri.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import kiri.launcher.Broker;
import kiri.launcher.ListenerUrl;
import kiri.storage.api.NewTopic;

/**
 * A Kiri broker running inside this JVM, for tests and tools that want a real Kafka endpoint without
 * Docker or a separate process: Kafka clients connect to {@link #bootstrapServers()}.
 *
 * <pre>{@code
 * try (EmbeddedKiri kiri = EmbeddedKiri.builder().topic("orders", 3).start()) {
 *     props.put("bootstrap.servers", kiri.bootstrapServers());
 *     ...
 * }
 * }</pre>
 *
 * <p>By default it keeps records in memory ({@code memory://}), listens on an ephemeral loopback port,
 * creates topics on first use with one partition, and starts groups without Kafka's 3 s initial
 * rebalance delay. Each instance is a separate broker with its own storage.
 *
 * <p>Thread-safe. {@link #close()} stops accepting connections, finishes in-flight requests and
 * releases the storage; it is idempotent.
 */
public final class EmbeddedKiri implements AutoCloseable {
    private final Broker broker;
    private final String storageUrl;
    private final String bootstrap;
    private boolean closed;

    private EmbeddedKiri(Broker broker, String storageUrl, String host) {
        this.broker = broker;
        this.storageUrl = storageUrl;
        this.bootstrap = (host.contains(":") ? "[" + host + "]" : host) + ":" + broker.localAddress().getPort();
    }

    /** A broker with every default: {@code memory://} storage on an ephemeral loopback port. */
    public static EmbeddedKiri start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code host:port} for Kafka's {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return bootstrap;
    }

    /** The port it listens on (the ephemeral one it bound when asked for port 0). */
    public int port() {
        return broker.localAddress().getPort();
    }

    /** The storage URL it was started with, e.g. {@code memory://}. */
    public String storageUrl() {
        return storageUrl;
    }

    /**
     * Creates a topic, as CreateTopics would (Kafka's topic configs apply, e.g. {@code cleanup.policy}).
     *
     * @throws IllegalArgumentException if the broker refuses it (it exists, a bad name or config), with its message
     */
    public EmbeddedKiri createTopic(String name, int partitions, Map<String, String> configs) {
        try {
            broker.storage().createTopic(new NewTopic(name, partitions, (short) NewTopic.DEFAULT, configs), false)
                    .toCompletableFuture().join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("cannot create topic '" + name + "': " + cause.getMessage(), cause);
        }
        return this;
    }

    public EmbeddedKiri createTopic(String name, int partitions) {
        return createTopic(name, partitions, Map.of());
    }

    /** False once {@link #close()} ran. */
    public synchronized boolean isRunning() {
        return !closed;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            broker.close();
        }
    }

    @Override
    public String toString() {
        return "EmbeddedKiri[" + bootstrap + ", " + storageUrl + "]";
    }

    /** Settings for {@link #start()}; not thread-safe, reusable (each start is a new broker). */
    public static final class Builder {
        private record Topic(String name, int partitions, Map<String, String> configs) {
        }

        private String storage = "memory://";
        private String host = "127.0.0.1";
        private int port;
        private String clusterId;
        private int nodeId;
        private boolean autoCreateTopics = true;
        private int defaultPartitions = 1;
        private int groupInitialRebalanceDelayMs;
        private final List<Topic> topics = new ArrayList<>();

        private Builder() {
        }

        /** Any storage URL the broker takes: {@code memory://} (default), {@code file:PATH}, {@code null://}, ... */
        public Builder storage(String url) {
            this.storage = url;
            return this;
        }

        /** The address to listen on and advertise (default {@code 127.0.0.1}). */
        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** The port (default 0: an ephemeral one). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is outside 0-65535");
            }
            this.port = port;
            return this;
        }

        /** The cluster id (default: the storage's own, a fresh one for memory). */
        public Builder clusterId(String clusterId) {
            this.clusterId = clusterId;
            return this;
        }

        public Builder nodeId(int nodeId) {
            this.nodeId = nodeId;
            return this;
        }

        /** Kafka's {@code auto.create.topics.enable} (default true, as Kafka's). */
        public Builder autoCreateTopics(boolean enabled) {
            this.autoCreateTopics = enabled;
            return this;
        }

        /** Kafka's {@code num.partitions}: partitions of auto-created topics (default 1). */
        public Builder defaultPartitions(int partitions) {
            this.defaultPartitions = partitions;
            return this;
        }

        /** Kafka's {@code group.initial.rebalance.delay.ms}; default 0 here (Kafka's is 3000), which suits tests. */
        public Builder groupInitialRebalanceDelayMs(int ms) {
            this.groupInitialRebalanceDelayMs = ms;
            return this;
        }

        /** A topic to create before {@link #start()} returns. */
        public Builder topic(String name, int partitions, Map<String, String> configs) {
            topics.add(new Topic(name, partitions, Map.copyOf(configs)));
            return this;
        }

        public Builder topic(String name, int partitions) {
            return topic(name, partitions, Map.of());
        }

        /**
         * Starts the broker and creates the topics; returns once clients can connect.
         *
         * @throws UncheckedIOException if it cannot listen (e.g. the port is in use)
         * @throws IllegalArgumentException for a bad storage URL or a topic the broker refuses
         */
        public EmbeddedKiri start() {
            ListenerUrl listener = new ListenerUrl(host, port);
            Broker broker;
            try {
                broker = Broker.start(new Broker.Settings(listener, listener, storage, clusterId, nodeId,
                        autoCreateTopics, defaultPartitions, groupInitialRebalanceDelayMs));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start an embedded Kiri broker on " + listener + ": " + e.getMessage(), e);
            }
            EmbeddedKiri kiri = new EmbeddedKiri(broker, storage, host);
            try {
                for (Topic t : topics) {
                    kiri.createTopic(t.name(), t.partitions(), t.configs());
                }
            } catch (RuntimeException e) {
                kiri.close();
                throw e;
            }
            return kiri;
        }
    }
}
