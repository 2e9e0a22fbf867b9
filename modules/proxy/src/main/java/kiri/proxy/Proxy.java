package kiri.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.transport.BufferPool;
import kiri.transport.Server;
import kiri.transport.ServerConfig;

/**
 * A running Kafka proxy. The bootstrap listener forwards to the configured origins; each origin
 * broker named in a Metadata, FindCoordinator or DescribeCluster response gets its own proxy
 * listener (created on first mention), which forwards to that broker, and the response is rewritten
 * to advertise it. So a client's requests for a partition reach the partition's leader through the
 * proxy endpoint the client was given for it.
 *
 * <p>Each client connection gets its own origin connection (pooled and reused after the client
 * leaves); request frames are forwarded undecoded with their correlation ids, and responses come
 * back in order. An unreachable or failing origin closes the client connection (Kafka clients
 * reconnect and retry); the next request connects again.
 *
 * <p>Threads: per listener, {@link ProxyConfig#eventLoops()} event loops, each also serving the
 * origin connections of its client connections ({@link OriginConnection}), so a request and its
 * response never change threads; virtual threads for connecting. {@link #close()} stops everything.
 */
public final class Proxy implements AutoCloseable {
    static final System.Logger LOG = System.getLogger("kiri.proxy");

    private record NodeListener(Server server, Endpoint advertised) {
    }

    private final List<ForwardingHandler> handlers = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final ProxyConfig config;
    private final BufferPool pool = new BufferPool();
    private final OriginPool origins;
    private final ExecutorService connector = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Endpoint> bootstrapOrigins;
    private final AtomicInteger rotation = new AtomicInteger();
    private final ConcurrentHashMap<Integer, Endpoint> nodeOrigins = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Integer, NodeListener> nodes = new ConcurrentHashMap<>();
    private final Server bootstrap;
    private volatile boolean closed;

    private Proxy(ProxyConfig config) throws IOException {
        this.config = config;
        this.bootstrapOrigins = config.origins().stream().map(Endpoint::of).toList();
        this.origins = new OriginPool(pool, config.connectTimeout(), config.originTls());
        try {
            this.bootstrap = listen(config.bind(), this::bootstrapTargets);
        } catch (IOException | RuntimeException e) {
            shutdownExecutors();
            pool.close();
            throw e;
        }
    }

    /**
     * Binds the bootstrap listener. Broker listeners are bound when brokers are first named.
     *
     * @throws java.net.BindException "cannot listen on HOST:PORT: ..." when the port is taken
     */
    public static Proxy start(ProxyConfig config) throws IOException {
        return new Proxy(config);
    }

    /** The bootstrap listener's bound address. */
    public InetSocketAddress localAddress() {
        return bootstrap.localAddress();
    }

    /** The advertised bootstrap endpoint as HOST:PORT. */
    public String advertised() {
        return new Endpoint(config.advertisedHost(), advertisedPort(localAddress().getPort())).toString();
    }

    /** Bound address of the proxy listener for each origin broker seen so far, by node id. */
    public Map<Integer, InetSocketAddress> brokerListeners() {
        Map<Integer, InetSocketAddress> m = new TreeMap<>();
        nodes.forEach((id, l) -> m.put(id, l.server().localAddress()));
        return m;
    }

    /** Origin connections idle in the pool (monitoring, tests). */
    public int idleOriginConnections() {
        return origins.idleCount();
    }

    /** Client connections that have an open origin connection right now (monitoring, tests). */
    public int connectedOriginLinks() {
        return handlers.stream().mapToInt(ForwardingHandler::connectedLinks).sum();
    }

    private List<Endpoint> bootstrapTargets() {
        int n = bootstrapOrigins.size();
        int start = Math.floorMod(rotation.getAndIncrement(), n);
        List<Endpoint> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(bootstrapOrigins.get((start + i) % n));
        }
        return order;
    }

    private Server listen(InetSocketAddress bind, java.util.function.Supplier<List<Endpoint>> targets) throws IOException {
        ForwardingHandler handler = new ForwardingHandler(targets, origins, connector, this::advertise, pool);
        handlers.add(handler);
        return Server.start(ServerConfig.builder(handler).bind(bind).pool(pool).eventLoops(config.eventLoops())
                .tls(config.tls()).build());
    }

    private int advertisedPort(int boundPort) {
        if (config.advertisedPort() == 0) {
            return boundPort;
        }
        return boundPort + config.advertisedPort() - bootstrap.localAddress().getPort();
    }

    /** {@link Rewriter.AddressMap}: remembers where the origin broker is and returns its proxy endpoint. */
    Endpoint advertise(int nodeId, String host, int port) {
        if (nodeId < 0) {
            return null;
        }
        nodeOrigins.put(nodeId, new Endpoint(host, port));
        NodeListener listener = nodes.get(nodeId);
        if (listener != null) {
            return listener.advertised();
        }
        synchronized (nodes) {
            listener = nodes.get(nodeId);
            if (listener == null) {
                if (closed) {
                    throw new IllegalStateException("proxy is closed");
                }
                listener = openNode(nodeId, host, port);
                nodes.put(nodeId, listener);
            }
            return listener.advertised();
        }
    }

    private NodeListener openNode(int nodeId, String host, int port) {
        int bindPort = config.nodePortBase() < 0 ? 0 : config.nodePortBase() + nodeId;
        if (bindPort > 65535) {
            throw new IllegalStateException("no proxy port for origin broker " + nodeId + ": "
                    + config.nodePortBase() + " + " + nodeId + " > 65535");
        }
        try {
            Server server = listen(new InetSocketAddress(config.bind().getAddress(), bindPort),
                    () -> {
                        Endpoint origin = nodeOrigins.get(nodeId);
                        return origin == null ? List.of() : List.of(origin);
                    });
            Endpoint advertised = new Endpoint(config.advertisedHost(), advertisedPort(server.localAddress().getPort()));
            LOG.log(Level.INFO, "origin broker {0} at {1}:{2} -> proxy listener {3} (advertised {4})",
                    nodeId, host, port, server.localAddress(), advertised);
            return new NodeListener(server, advertised);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open proxy listener for origin broker " + nodeId + ": "
                    + e.getMessage(), e);
        }
    }

    /** Stops the listeners (in-flight requests finish first), then the origin connections. Idempotent. */
    @Override
    public void close() {
        synchronized (nodes) {
            if (closed) {
                return;
            }
            closed = true;
        }
        bootstrap.close();
        nodes.values().forEach(l -> l.server().close());
        shutdownExecutors();
        origins.close();
        pool.close();
    }

    private void shutdownExecutors() {
        connector.shutdown();
        try {
            connector.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        origins.close();
    }

    @Override
    public String toString() {
        return "Proxy[" + localAddress() + " -> " + bootstrapOrigins + "]";
    }
}
