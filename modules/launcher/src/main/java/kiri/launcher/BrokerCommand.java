package kiri.launcher;

import java.io.IOException;
import java.net.BindException;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiri broker}: runs a broker until SIGTERM or Ctrl-C. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Run a Kafka-compatible broker. Each option may also come from the environment variable named.")
final class BrokerCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listener", paramLabel = "URL", defaultValue = "${env:KIRI_LISTENER:-tcp://0.0.0.0:9092}",
            description = "Where to listen (KIRI_LISTENER; default ${DEFAULT-VALUE}).")
    String listener;

    @Option(names = "--advertised-listener", paramLabel = "URL",
            defaultValue = "${env:KIRI_ADVERTISED_LISTENER:-tcp://localhost:9092}",
            description = "The address clients are told to connect to (KIRI_ADVERTISED_LISTENER; default ${DEFAULT-VALUE}).")
    String advertisedListener;

    @Option(names = "--storage", paramLabel = "URL", defaultValue = "${env:KIRI_STORAGE:-memory://}",
            description = "Storage engine URL: memory:// (records in memory), null:// (records discarded) "
                    + "(KIRI_STORAGE; default ${DEFAULT-VALUE}; file:PATH when that engine is installed).")
    String storage;

    @Option(names = "--cluster-id", paramLabel = "ID", defaultValue = "${env:KIRI_CLUSTER_ID}",
            description = "Cluster id (KIRI_CLUSTER_ID; default: the storage's, or a new one).")
    String clusterId;

    @Option(names = "--node-id", paramLabel = "N", defaultValue = "${env:KIRI_NODE_ID:-0}",
            description = "This broker's node id (KIRI_NODE_ID; default ${DEFAULT-VALUE}).")
    int nodeId;

    @Option(names = "--auto-create-topics", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Create unknown topics when a client's metadata request allows it (default on).")
    boolean autoCreateTopics;

    @Option(names = "--default-partitions", paramLabel = "N", defaultValue = "1",
            description = "Partitions of auto-created topics (default ${DEFAULT-VALUE}).")
    int defaultPartitions;

    @Option(names = "--verbose", description = "Print stack traces with errors.")
    boolean verbose;

    @Override
    public Integer call() throws IOException, InterruptedException {
        ListenerUrl listen = ListenerUrl.parse(listener);
        ListenerUrl advertised = ListenerUrl.parse(advertisedListener);
        if (nodeId < 0) {
            throw new IllegalArgumentException("--node-id must be >= 0, got " + nodeId);
        }
        if (defaultPartitions < 1) {
            throw new IllegalArgumentException("--default-partitions must be >= 1, got " + defaultPartitions);
        }
        Broker broker;
        try {
            broker = Broker.start(new Broker.Settings(listen, advertised, storage, clusterId, nodeId,
                    autoCreateTopics, defaultPartitions));
        } catch (BindException e) {
            throw new IOException(e.getMessage(), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "kiri-shutdown"));
        spec.commandLine().getOut().printf("kiri broker listening on %s (advertised %s), storage %s, cluster %s, node %d%n",
                new ListenerUrl(listen.host(), broker.localAddress().getPort()), advertised, broker.storage().describe(),
                broker.config().clusterId(), nodeId);
        spec.commandLine().getOut().flush();
        stopped.await();
        return 0;
    }
}
