package kiri.launcher;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import kiri.coordinator.CoordinatorConfig;
import kiri.coordinator.GroupCoordinator;
import kiri.coordinator.Timer;
import kiri.router.ApiMetrics;
import kiri.router.BrokerConfig;
import kiri.router.BrokerRoutes;
import kiri.router.Router;
import kiri.router.security.Authorizer;
import kiri.router.security.BrokerSecurity;
import kiri.router.security.Listener;
import kiri.router.security.SecurityStore;
import kiri.router.security.Sessions;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import kiri.transport.BufferPool;
import kiri.transport.ConnectionContext;
import kiri.transport.RequestBudget;
import kiri.transport.RequestHandler;
import kiri.transport.Response;
import kiri.transport.Server;
import kiri.transport.ServerConfig;

/**
 * A running broker: storage, router and server, started together and closed in reverse order
 * (stop accepting, finish in-flight requests, stop housekeeping, close storage). Used by
 * {@code kiri broker} and by tests that need a real broker in-process.
 *
 * <p>Housekeeping: {@link Storage#maintain} runs every {@link #MAINTAIN_INTERVAL_MS} on one daemon
 * thread (retention, transaction timeouts, expired offsets).
 */
public final class Broker implements AutoCloseable {
    /**
     * How to start one. A port of 0 listens on an ephemeral port and advertises it.
     * {@code groupInitialRebalanceDelayMs}: group.initial.rebalance.delay.ms, or -1 for Kafka's default (3000),
     * which the system property {@code kiri.group.initial.rebalance.delay.ms} overrides (tests use 0).
     *
     * @param listeners at least one; the first one's advertised address is the one the storage registers
     */
    public record Settings(List<BrokerListener> listeners, String storageUrl, String clusterId, int nodeId,
            boolean autoCreateTopics, int defaultPartitions, int groupInitialRebalanceDelayMs, int socketRequestMaxBytes,
            long queuedMaxRequestBytes, SecuritySettings security) {
        public Settings {
            listeners = List.copyOf(listeners);
            if (listeners.isEmpty()) {
                throw new IllegalArgumentException("a broker needs at least one listener");
            }
            java.util.Objects.requireNonNull(security, "security");
        }

        /** With the default request limits. */
        public Settings(List<BrokerListener> listeners, String storageUrl, String clusterId, int nodeId,
                boolean autoCreateTopics, int defaultPartitions, int groupInitialRebalanceDelayMs, SecuritySettings security) {
            this(listeners, storageUrl, clusterId, nodeId, autoCreateTopics, defaultPartitions, groupInitialRebalanceDelayMs,
                    ServerConfig.DEFAULT_MAX_FRAME_SIZE, ServerConfig.DEFAULT_MAX_QUEUED_REQUEST_BYTES, security);
        }

        /** One PLAINTEXT listener, no security, the default request limits. */
        public Settings(ListenerUrl listener, ListenerUrl advertised, String storageUrl, String clusterId,
                int nodeId, boolean autoCreateTopics, int defaultPartitions, int groupInitialRebalanceDelayMs) {
            this(List.of(BrokerListener.plaintext(listener, advertised)), storageUrl, clusterId, nodeId,
                    autoCreateTopics, defaultPartitions, groupInitialRebalanceDelayMs, SecuritySettings.NONE);
        }

        public Settings(ListenerUrl listener, ListenerUrl advertised, String storageUrl, String clusterId,
                int nodeId, boolean autoCreateTopics, int defaultPartitions) {
            this(listener, advertised, storageUrl, clusterId, nodeId, autoCreateTopics, defaultPartitions, -1);
        }

        /** The first listener's bind address. */
        public ListenerUrl listener() {
            return listeners.getFirst().bind();
        }

        /** The first listener's advertised address. */
        public ListenerUrl advertised() {
            return listeners.getFirst().advertised();
        }
    }

    /** How often storage housekeeping runs. */
    static final long MAINTAIN_INTERVAL_MS = 5_000;
    private static final System.Logger LOG = System.getLogger(Broker.class.getName());

    private final Storage storage;
    /** One per listener, in the order of {@link Settings#listeners}. */
    private final List<Server> servers;
    private final List<Router> routers;
    private final ScheduledExecutorService housekeeping;
    /** The group coordinator's session and rebalance timeouts (one thread). */
    private final ScheduledExecutorService timers = timerThread();
    private final GroupCoordinator groups;
    private final ApiMetrics metrics = new ApiMetrics();
    private final BrokerConfig config;
    /** The metrics listener, once {@link #serveMetrics} started it. */
    private volatile MetricsEndpoint metricsEndpoint;
    private final Settings settings;
    /** Request frames' buffers, shared by every listener's server; closed after them. */
    private final BufferPool pool = new BufferPool();

    private Broker(Settings s, ModuleLayer plugins) throws IOException {
        StorageContext context = new StorageContext(s.nodeId(), s.clusterId(), s.advertised().host(), s.advertised().port());
        Storage opened;
        try {
            opened = plugins == null ? Storages.open(s.storageUrl(), context)
                    : Storages.open(s.storageUrl(), context, plugins);
        } catch (RuntimeException e) {
            timers.shutdownNow();
            pool.close();
            throw e;
        }
        GroupCoordinator coordinator = new GroupCoordinator(opened, coordinatorConfig(s.groupInitialRebalanceDelayMs()), Timer.of(timers));
        List<Server> started = new ArrayList<>();
        List<Router> listenerRouters = new ArrayList<>();
        BrokerConfig brokerConfig = null;
        try {
            BrokerSecurity security = security(s.security(), opened);
            List<RouterOnceBound> bounds = new ArrayList<>();
            List<Listener> listeners = new ArrayList<>();
            // one queued.max.request.bytes for the broker, every listener drawing on it, as Kafka's memory pool
            RequestBudget budget = RequestBudget.of(s.queuedMaxRequestBytes());
            for (BrokerListener l : s.listeners()) {
                RouterOnceBound bound = new RouterOnceBound();
                Server server = Server.start(ServerConfig.builder(bound).bind(bindAddress(l.bind())).pool(pool)
                        .maxFrameSize(s.socketRequestMaxBytes()).requestBudget(budget)
                        .tls(s.security().tls().get(l.name())).build());
                started.add(server);
                bounds.add(bound);
                // the advertised port follows the real one when listening on an ephemeral port
                int port = l.advertised().port() == 0 ? server.localAddress().getPort() : l.advertised().port();
                listeners.add(s.security().listener(l, l.advertised().host(), port));
            }
            Listener firstListener = listeners.getFirst();
            brokerConfig = new BrokerConfig(s.nodeId(), opened.clusterId(), firstListener.host(), firstListener.port(),
                    s.autoCreateTopics(), s.defaultPartitions(), properties(s, listeners, started));
            Router first = null;
            for (int i = 0; i < listeners.size(); i++) {
                Sessions sessions = new Sessions(listeners.get(i), security.store());
                Router router = first == null
                        ? BrokerRoutes.create(opened, brokerConfig, metrics, coordinator, security, sessions)
                        : first.forListener(sessions);
                if (first == null) {
                    first = router;
                    opened.registerBroker(new kiri.storage.api.BrokerInfo(s.nodeId(), firstListener.host(),
                            firstListener.port(), null));
                }
                bounds.get(i).router = router;
                listenerRouters.add(router);
            }
        } catch (IOException | RuntimeException e) {
            for (Server server : started) {
                server.close();
            }
            opened.close();
            timers.shutdownNow();
            pool.close();
            throw e;
        }
        this.config = brokerConfig;
        this.settings = s;
        this.storage = opened;
        this.servers = List.copyOf(started);
        this.routers = List.copyOf(listenerRouters);
        this.groups = coordinator;
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiri-housekeeping");
            t.setDaemon(true);
            return t;
        });
        housekeeping.scheduleWithFixedDelay(this::maintain, MAINTAIN_INTERVAL_MS, MAINTAIN_INTERVAL_MS,
                TimeUnit.MILLISECONDS);
    }

    /**
     * The server's handler: the router, which needs the bound port (it advertises it) and so is built once the server
     * listens; a request before then closes its connection.
     */
    private static final class RouterOnceBound implements RequestHandler {
        volatile Router router;

        @Override
        public CompletionStage<Response> handle(ConnectionContext connection, MemorySegment frame) {
            Router r = router;
            return r != null ? r.handle(connection, frame) : CompletableFuture.completedFuture(new Response.Close("starting"));
        }

        @Override
        public void endRound() {
            Router r = router;
            if (r != null) r.endRound();
        }

        @Override
        public void connectionClosed(ConnectionContext connection) {
            Router r = router;
            if (r != null) r.connectionClosed(connection);
        }
    }

    private static ScheduledExecutorService timerThread() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "kiri-timers");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true); // every heartbeat cancels a session expiry
        return executor;
    }

    /**
     * Kafka's group defaults, with {@code initialRebalanceDelayMs} unless it is -1; the system properties
     * {@code kiri.group.min.session.timeout.ms}, {@code kiri.group.initial.rebalance.delay.ms},
     * {@code kiri.group.consumer.heartbeat.interval.ms} and {@code kiri.group.consumer.session.timeout.ms}
     * override the defaults (tests use short ones).
     */
    static CoordinatorConfig coordinatorConfig(int initialRebalanceDelayMs) {
        CoordinatorConfig c = CoordinatorConfig.defaults();
        c = c.withMinSessionTimeoutMs(Integer.getInteger("kiri.group.min.session.timeout.ms", c.minSessionTimeoutMs()));
        c = c.withConsumerTimeouts(
                Integer.getInteger("kiri.group.consumer.heartbeat.interval.ms", c.consumerHeartbeatIntervalMs()),
                Integer.getInteger("kiri.group.consumer.session.timeout.ms", c.consumerSessionTimeoutMs()));
        return c.withInitialRebalanceDelayMs(initialRebalanceDelayMs >= 0 ? initialRebalanceDelayMs
                : Integer.getInteger("kiri.group.initial.rebalance.delay.ms", c.initialRebalanceDelayMs()));
    }

    private void maintain() {
        try {
            storage.maintain(System.currentTimeMillis()).toCompletableFuture().exceptionally(e -> {
                LOG.log(System.Logger.Level.WARNING, "storage housekeeping failed", e);
                return null;
            });
        } catch (Throwable e) { // keep the schedule alive: a periodic task that throws is never run again
            LOG.log(System.Logger.Level.WARNING, "storage housekeeping failed", e);
        }
    }

    public static Broker start(Settings settings) throws IOException {
        return new Broker(settings, null);
    }

    /** Starts one whose storage engine may also come from {@code plugins} (a child of the boot layer, see {@code --plugins}). */
    public static Broker start(Settings settings, ModuleLayer plugins) throws IOException {
        return new Broker(settings, plugins);
    }

    /** Where the first listener listens. */
    public InetSocketAddress localAddress() {
        return servers.getFirst().localAddress();
    }

    /** Where the listener called {@code name} listens (e.g. "SASL_PLAINTEXT"). */
    public InetSocketAddress localAddress(String name) {
        for (Router r : routers) {
            if (r.sessions().listener().name().equals(name)) {
                return servers.get(routers.indexOf(r)).localAddress();
            }
        }
        throw new IllegalArgumentException("no listener named " + name);
    }

    /**
     * "tcp://HOST:PORT (advertised tcp://HOST:PORT)" per listener, comma-separated, with the real ports; a listener
     * other than PLAINTEXT is written NAME://HOST:PORT.
     */
    public String describeListeners() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < servers.size(); i++) {
            Listener l = routers.get(i).sessions().listener();
            String scheme = l.name().equals("PLAINTEXT") ? "tcp" : l.name();
            ListenerUrl bind = settings.listeners().get(i).bind();
            b.append(i == 0 ? "" : ", ")
                    .append(new ListenerUrl(bind.host(), servers.get(i).localAddress().getPort()).withScheme(scheme))
                    .append(" (advertised ").append(new ListenerUrl(l.host(), l.port()).withScheme(scheme))
                    .append(')');
        }
        return b.toString();
    }

    /** Each listener's router (its sessions count failed authentications), in listener order. */
    public List<Router> routers() {
        return routers;
    }

    /** The SCRAM credentials and ACLs, and the authorizer. */
    private static BrokerSecurity security(SecuritySettings settings, Storage storage) {
        SecurityStore store = SecurityStore.open(storage);
        Authorizer authorizer = settings.authorizer()
                ? new Authorizer(store, settings.superUsers(), settings.allowIfNoAcl()) : Authorizer.allowAll();
        return new BrokerSecurity(store, authorizer);
    }

    /**
     * What DescribeConfigs reports besides {@link BrokerConfig}'s fields, under Kafka's names: the listeners (real
     * ports), the request limits and the security settings.
     */
    private static java.util.Map<String, String> properties(Settings s, List<Listener> listeners, List<Server> servers) {
        java.util.Map<String, String> out = new java.util.HashMap<>(s.security().describe());
        java.util.StringJoiner bind = new java.util.StringJoiner(",");
        java.util.StringJoiner advertised = new java.util.StringJoiner(",");
        java.util.StringJoiner protocols = new java.util.StringJoiner(",");
        for (int i = 0; i < listeners.size(); i++) {
            Listener l = listeners.get(i);
            ListenerUrl url = new ListenerUrl(s.listeners().get(i).bind().host(), servers.get(i).localAddress().getPort());
            bind.add(url.withScheme(l.name()));
            advertised.add(new ListenerUrl(l.host(), l.port()).withScheme(l.name()));
            protocols.add(l.name() + ":" + l.protocol());
        }
        out.put("listeners", bind.toString());
        out.put("advertised.listeners", advertised.toString());
        out.put("listener.security.protocol.map", protocols.toString());
        out.put("socket.request.max.bytes", Integer.toString(s.socketRequestMaxBytes()));
        out.put("queued.max.request.bytes", Long.toString(s.queuedMaxRequestBytes()));
        return out;
    }

    /** An empty host (PLAINTEXT://:9092) listens on every interface, as Kafka does. */
    private static InetSocketAddress bindAddress(ListenerUrl url) {
        return url.host().isEmpty() ? new InetSocketAddress(url.port()) : new InetSocketAddress(url.host(), url.port());
    }

    public BrokerConfig config() {
        return config;
    }

    public Storage storage() {
        return storage;
    }

    public ApiMetrics metrics() {
        return metrics;
    }

    /** Open client connections on every listener (a snapshot). */
    public int connectionCount() {
        int n = 0;
        for (Server server : servers) {
            n += server.connectionCount();
        }
        return n;
    }

    /** The off-heap pool request frames are read into, shared by every listener. */
    public BufferPool bufferPool() {
        return pool;
    }

    /**
     * Serves Prometheus metrics and health checks on {@code listen} ({@code --metrics-listener}) until this
     * broker closes; returns the bound address. At most once.
     */
    public synchronized InetSocketAddress serveMetrics(ListenerUrl listen) throws IOException {
        if (metricsEndpoint != null) {
            throw new IllegalStateException("metrics already served on " + metricsEndpoint.address());
        }
        metricsEndpoint = MetricsEndpoint.start(listen, this);
        return metricsEndpoint.address();
    }

    @Override
    public void close() {
        MetricsEndpoint endpoint = metricsEndpoint;
        if (endpoint != null) {
            endpoint.close();
        }
        try {
            for (Server server : servers) {
                server.close();
            }
        } finally {
            housekeeping.shutdownNow();
            timers.shutdownNow();
            groups.close();
            try {
                storage.close();
            } finally {
                pool.close(); // last: the servers and their handlers are done with it
            }
        }
    }
}
