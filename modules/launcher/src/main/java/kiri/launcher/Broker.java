package kiri.launcher;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
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
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import kiri.transport.ConnectionContext;
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
    /** How to start one. A port of 0 listens on an ephemeral port and advertises it. */
    /**
     * {@code groupInitialRebalanceDelayMs}: group.initial.rebalance.delay.ms, or -1 for Kafka's default (3000),
     * which the system property {@code kiri.group.initial.rebalance.delay.ms} overrides (tests use 0).
     */
    /**
     * {@code socketRequestMaxBytes} and {@code queuedMaxRequestBytes}: Kafka's {@code socket.request.max.bytes} and
     * {@code queued.max.request.bytes} (-1: no limit), see {@link ServerConfig}.
     */
    public record Settings(ListenerUrl listener, ListenerUrl advertised, String storageUrl, String clusterId,
            int nodeId, boolean autoCreateTopics, int defaultPartitions, int groupInitialRebalanceDelayMs,
            int socketRequestMaxBytes, long queuedMaxRequestBytes) {
        public Settings(ListenerUrl listener, ListenerUrl advertised, String storageUrl, String clusterId,
                int nodeId, boolean autoCreateTopics, int defaultPartitions) {
            this(listener, advertised, storageUrl, clusterId, nodeId, autoCreateTopics, defaultPartitions, -1);
        }

        public Settings(ListenerUrl listener, ListenerUrl advertised, String storageUrl, String clusterId,
                int nodeId, boolean autoCreateTopics, int defaultPartitions, int groupInitialRebalanceDelayMs) {
            this(listener, advertised, storageUrl, clusterId, nodeId, autoCreateTopics, defaultPartitions,
                    groupInitialRebalanceDelayMs, ServerConfig.DEFAULT_MAX_FRAME_SIZE,
                    ServerConfig.DEFAULT_MAX_QUEUED_REQUEST_BYTES);
        }
    }

    /** How often storage housekeeping runs. */
    static final long MAINTAIN_INTERVAL_MS = 5_000;
    private static final System.Logger LOG = System.getLogger(Broker.class.getName());

    private final Storage storage;
    private final Server server;
    private final ScheduledExecutorService housekeeping;
    /** The group coordinator's session and rebalance timeouts (one thread). */
    private final ScheduledExecutorService timers = timerThread();
    private final GroupCoordinator groups;
    private final ApiMetrics metrics = new ApiMetrics();
    private final BrokerConfig config;

    private Broker(Settings s, ModuleLayer plugins) throws IOException {
        StorageContext context = new StorageContext(s.nodeId(), s.clusterId(), s.advertised().host(), s.advertised().port());
        Storage opened;
        try {
            opened = plugins == null ? Storages.open(s.storageUrl(), context)
                    : Storages.open(s.storageUrl(), context, plugins);
        } catch (RuntimeException e) {
            timers.shutdownNow();
            throw e;
        }
        GroupCoordinator coordinator = new GroupCoordinator(opened, coordinatorConfig(s.groupInitialRebalanceDelayMs()), Timer.of(timers));
        Server started = null;
        try {
            // the advertised port follows the real one when listening on an ephemeral port
            BrokerConfig[] cfg = new BrokerConfig[1];
            RouterOnceBound router = new RouterOnceBound();
            started = Server.start(ServerConfig.builder(router)
                    .bind(new InetSocketAddress(s.listener().host(), s.listener().port()))
                    .maxFrameSize(s.socketRequestMaxBytes()).maxQueuedRequestBytes(s.queuedMaxRequestBytes()).build());
            int port = s.advertised().port() == 0 ? started.localAddress().getPort() : s.advertised().port();
            cfg[0] = new BrokerConfig(s.nodeId(), opened.clusterId(), s.advertised().host(), port,
                    s.autoCreateTopics(), s.defaultPartitions());
            router.router = BrokerRoutes.create(opened, cfg[0], metrics, coordinator);
            opened.registerBroker(new kiri.storage.api.BrokerInfo(s.nodeId(), s.advertised().host(), port, null));
            this.config = cfg[0];
        } catch (IOException | RuntimeException e) {
            if (started != null) {
                started.close();
            }
            opened.close();
            timers.shutdownNow();
            throw e;
        }
        this.storage = opened;
        this.server = started;
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

    public InetSocketAddress localAddress() {
        return server.localAddress();
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

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            housekeeping.shutdownNow();
            timers.shutdownNow();
            groups.close();
            storage.close();
        }
    }
}
