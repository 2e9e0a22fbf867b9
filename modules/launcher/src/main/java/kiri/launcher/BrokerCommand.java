package kiri.launcher;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import kiri.transport.ServerConfig;

/**
 * {@code kiri broker}: runs a broker until SIGTERM or Ctrl-C.
 *
 * <p>This class does not touch picocli, so a broker starts without loading it (about 12 MB of RSS and
 * 100 ms of CPU: its classes cannot live in the AOT cache). {@link #OPTIONS} is the one definition of
 * the broker's flags: {@link #parse} reads a command line with it, and {@link Cli} builds the picocli
 * command that prints {@code kiri broker --help} and reports every usage error from it. {@link #parse}
 * accepts only plain command lines ({@code --flag value}, {@code --flag=value}, bare boolean flags, each
 * flag at most once); for anything else (help, an unknown flag, a bad number, {@code @file}, ...) it
 * returns null and {@link Main} hands the whole command line to picocli, so messages and exit codes
 * stay picocli's.
 */
final class BrokerCommand {
    private BrokerCommand() {}

    static final String DESCRIPTION =
            "Run a Kafka-compatible broker. Each option may also come from the environment variable named.";

    /** What an option's value is. */
    enum Kind {
        /** A string value. */
        STRING,
        /** An int value. */
        INT,
        /** A boolean flag that takes no value; {@code --NAME} turns it on. */
        FLAG,
        /** A boolean flag with a {@code --no-} form. */
        NEGATABLE,
        /** A string value that may be given several times (a list). */
        REPEATABLE
    }

    /**
     * One option: its name, value label, kind, the environment variable it defaults from (or null), the
     * default when that is unset (or null), and its help text ({@code ${DEFAULT-VALUE}} is the effective
     * default, as picocli prints it).
     */
    record Option(String name, String label, Kind kind, String env, String defaultValue, String description) {
        /**
         * The effective default: the environment variable when it is set (even to ""), else the value the
         * {@code --config} file and {@code --override}s give it ({@link ServerProperties#environment}), else the default.
         */
        String defaultValue(Function<String, String> environment) {
            String fromEnv = env == null ? null : environment.apply(env);
            if (fromEnv != null) {
                return fromEnv;
            }
            String fromConfig = environment.apply(ServerProperties.FLAG_PREFIX + name);
            return fromConfig != null ? fromConfig : defaultValue;
        }
    }

    static final List<Option> OPTIONS = List.of(
            new Option("--listener", "URL", Kind.STRING, "KIRI_LISTENER", "tcp://0.0.0.0:9092",
                    "Where to listen (KIRI_LISTENER; default ${DEFAULT-VALUE})."),
            new Option("--advertised-listener", "URL", Kind.STRING, "KIRI_ADVERTISED_LISTENER", null,
                    "The address clients are told to connect to (KIRI_ADVERTISED_LISTENER; default: the listener's, "
                            + "with localhost for a wildcard host such as 0.0.0.0)."),
            new Option("--storage", "URL", Kind.STRING, "KIRI_STORAGE", "file:./kiri-data",
                    "Storage engine URL: file:PATH[?fsync=always|never|interval:MS][&preallocate=false][&recover=truncate] (durable log), "
                            + "memory:// (records in memory), null:// (records discarded) "
                            + "(KIRI_STORAGE; default ${DEFAULT-VALUE})."),
            new Option("--cluster-id", "ID", Kind.STRING, "KIRI_CLUSTER_ID", null,
                    "Cluster id (KIRI_CLUSTER_ID; default: the storage's, or a new one)."),
            new Option("--node-id", "N", Kind.INT, "KIRI_NODE_ID", "0",
                    "This broker's node id (KIRI_NODE_ID; default ${DEFAULT-VALUE})."),
            new Option("--auto-create-topics", null, Kind.NEGATABLE, null, "true",
                    "Create unknown topics when a client's metadata request allows it (default on)."),
            new Option("--default-partitions", "N", Kind.INT, null, "1",
                    "Partitions of auto-created topics (default ${DEFAULT-VALUE})."),
            new Option("--group-initial-rebalance-delay-ms", "MS", Kind.INT, null, "3000",
                    "How long a new consumer group waits for more members before its first rebalance, "
                            + "as Kafka's group.initial.rebalance.delay.ms (default ${DEFAULT-VALUE}; 0 for tests and dev)."),
            new Option("--plugins", "DIR", Kind.STRING, "KIRI_PLUGINS", null,
                    "Folder of plugin jars (modules) to load, e.g. storage engines (KIRI_PLUGINS; "
                            + "default: the runtime image's plugins/ folder)."),
            new Option("--socket-request-max-bytes", "BYTES", Kind.INT, "KIRI_SOCKET_REQUEST_MAX_BYTES", "104857600",
                    "Largest request accepted, as Kafka's socket.request.max.bytes; a larger one closes its connection "
                            + "(KIRI_SOCKET_REQUEST_MAX_BYTES; default ${DEFAULT-VALUE})."),
            new Option("--queued-max-request-bytes", "BYTES", Kind.INT, "KIRI_QUEUED_MAX_REQUEST_BYTES", "104857600",
                    "Bytes of requests held at once across all connections, as Kafka's queued.max.request.bytes; "
                            + "beyond it the broker stops reading until requests complete; -1 for no limit "
                            + "(KIRI_QUEUED_MAX_REQUEST_BYTES; default ${DEFAULT-VALUE})."),
            new Option("--metrics-listener", "URL", Kind.STRING, "KIRI_METRICS_LISTENER", null,
                    "Serve Prometheus metrics at /metrics and health checks at /health/live and /health/ready, "
                            + "e.g. http://0.0.0.0:9404 (KIRI_METRICS_LISTENER; default: off)."),
            new Option("--config", "FILE", Kind.STRING, "KIRI_CONFIG", null,
                    "A server.properties file with Apache Kafka's broker property names (listeners, advertised.listeners, "
                            + "listener.security.protocol.map, log.dirs, num.partitions, sasl.*, ssl.*, super.users, "
                            + "authorizer.class.name, ...); flags and environment variables win over it (KIRI_CONFIG)."),
            new Option("--override", "KEY=VALUE", Kind.REPEATABLE, null, null,
                    "A broker property that wins over the --config file, as kafka-server-start takes it; repeatable."),
            new Option("--verbose", null, Kind.FLAG, null, "false", "Print stack traces with errors."));

    /** The parsed options. */
    record Values(String listener, String advertisedListener, String storage, String clusterId, int nodeId,
            boolean autoCreateTopics, int defaultPartitions, int groupInitialRebalanceDelayMs, String plugins,
            String metricsListener, boolean verbose, int socketRequestMaxBytes, int queuedMaxRequestBytes, String config,
            List<String> overrides) {
        Values {
            overrides = overrides == null ? List.of() : List.copyOf(overrides);
        }

        /** With the default request limits, without a config file or overrides. */
        Values(String listener, String advertisedListener, String storage, String clusterId, int nodeId,
                boolean autoCreateTopics, int defaultPartitions, int groupInitialRebalanceDelayMs, String plugins,
                String metricsListener, boolean verbose) {
            this(listener, advertisedListener, storage, clusterId, nodeId, autoCreateTopics, defaultPartitions,
                    groupInitialRebalanceDelayMs, plugins, metricsListener, verbose, ServerConfig.DEFAULT_MAX_FRAME_SIZE,
                    (int) ServerConfig.DEFAULT_MAX_QUEUED_REQUEST_BYTES, null, List.of());
        }

        /** The values from {@code value}, which maps each option name of {@link #OPTIONS} to its typed value. */
        @SuppressWarnings("unchecked")
        static Values of(Function<String, Object> value) {
            return new Values((String) value.apply("--listener"), (String) value.apply("--advertised-listener"),
                    (String) value.apply("--storage"), (String) value.apply("--cluster-id"),
                    (Integer) value.apply("--node-id"), (Boolean) value.apply("--auto-create-topics"),
                    (Integer) value.apply("--default-partitions"),
                    (Integer) value.apply("--group-initial-rebalance-delay-ms"), (String) value.apply("--plugins"),
                    (String) value.apply("--metrics-listener"), (Boolean) value.apply("--verbose"),
                    (Integer) value.apply("--socket-request-max-bytes"), (Integer) value.apply("--queued-max-request-bytes"),
                    (String) value.apply("--config"), (List<String>) value.apply("--override"));
        }

        /** The --config file with the --overrides applied. */
        Map<String, String> properties() {
            return ServerProperties.load(config, overrides);
        }
    }

    /**
     * {@code environment} extended with what the command line's {@code --config} file (or KIRI_CONFIG's) and
     * {@code --override}s say, so flag defaults come from them (see {@link Option#defaultValue}).
     *
     * @throws IllegalArgumentException for a missing file, a malformed override or a bad value
     */
    static Function<String, String> environment(List<String> args, Function<String, String> environment) {
        String config = environment.apply("KIRI_CONFIG");
        List<String> overrides = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            for (String flag : List.of("--config", "--override")) {
                String value = null;
                if (arg.equals(flag) && i + 1 < args.size()) {
                    value = args.get(++i);
                } else if (arg.startsWith(flag + "=")) {
                    value = arg.substring(flag.length() + 1);
                }
                if (value != null && flag.equals("--config")) {
                    config = value;
                } else if (value != null) {
                    overrides.add(value);
                }
            }
        }
        return ServerProperties.environment(environment, ServerProperties.load(config, overrides));
    }

    /**
     * Parses the arguments after {@code broker}, with defaults from {@code environment}; null when the
     * command line is not a plain one this parser vouches for (then picocli parses it: help, errors).
     */
    static Values parse(List<String> args, Function<String, String> environment) {
        Map<String, String> given = new HashMap<>();
        List<String> repeated = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("--") || arg.equals("--")) {
                return null;   // a positional argument, -h, -V, "--", an @file: picocli's
            }
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            String value = eq < 0 ? null : arg.substring(eq + 1);
            boolean negated = false;
            Option option = find(name);
            if (option == null && name.startsWith("--no-")) {
                option = find("--" + name.substring(5));
                negated = option != null && option.kind() == Kind.NEGATABLE;
                if (!negated) {
                    return null;
                }
            }
            if (option == null || given.containsKey(option.name()) && option.kind() != Kind.REPEATABLE) {
                return null;   // unknown, or given twice: picocli says which
            }
            switch (option.kind()) {
                case FLAG, NEGATABLE -> {
                    if (value != null) {
                        return null;   // --flag=true|false: rare, picocli's
                    }
                    value = Boolean.toString(!negated);
                }
                case STRING, INT, REPEATABLE -> {
                    if (value == null) {
                        if (i + 1 == args.size()) {
                            return null;
                        }
                        value = args.get(++i);
                        if (value.isEmpty() || value.startsWith("@")) {
                            return null;
                        }
                    }
                    if (value.startsWith("-")) {
                        return null;   // picocli may take it for a flag
                    }
                }
            }
            if (option.kind() == Kind.REPEATABLE) {
                repeated.add(value);
            }
            given.put(option.name(), value);
        }
        environment = environment(args, environment);
        Map<String, Object> values = new HashMap<>();
        for (Option option : OPTIONS) {
            String raw = given.containsKey(option.name()) ? given.get(option.name()) : option.defaultValue(environment);
            Object typed;
            switch (option.kind()) {
                case REPEATABLE -> typed = repeated;
                case INT -> {
                    try {
                        typed = Integer.parseInt(raw);
                    } catch (NumberFormatException e) {
                        return null;   // "... is not an int": picocli's message
                    }
                }
                case FLAG, NEGATABLE -> typed = Boolean.parseBoolean(raw);
                default -> typed = raw;
            }
            values.put(option.name(), typed);
        }
        return Values.of(values::get);
    }

    private static Option find(String name) {
        for (Option option : OPTIONS) {
            if (option.name().equals(name)) {
                return option;
            }
        }
        return null;
    }

    /** Runs a broker until SIGTERM; {@code out} gets the "listening" line. */
    static int run(Values options, PrintWriter out) throws IOException, InterruptedException {
        Broker broker = start(options, out);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                broker.close();
            } finally {
                out.println("kiri broker stopped");
                out.flush();
                stopped.countDown();
            }
        }, "kiri-shutdown"));
        stopped.await();
        return 0;
    }

    /** Starts a broker and prints the "listening" line to {@code out}. */
    static Broker start(Values options, PrintWriter out) throws IOException {
        Map<String, String> props = options.properties();
        List<String> unsupported = ServerProperties.unsupported(props);
        if (!unsupported.isEmpty()) {
            System.err.println("kiri: warning: ignoring broker properties Kiri does not support: "
                    + String.join(", ", unsupported));
        }
        List<BrokerListener> listeners = BrokerListener.parse(options.listener(), options.advertisedListener(),
                props.get("listener.security.protocol.map"));
        SecuritySettings security = SecuritySettings.from(props, listeners);
        if (options.nodeId() < 0) {
            throw new IllegalArgumentException("--node-id must be >= 0, got " + options.nodeId());
        }
        if (options.defaultPartitions() < 1) {
            throw new IllegalArgumentException("--default-partitions must be >= 1, got " + options.defaultPartitions());
        }
        if (options.socketRequestMaxBytes() < 0) {
            throw new IllegalArgumentException("--socket-request-max-bytes must be >= 0, got " + options.socketRequestMaxBytes());
        }
        if (options.queuedMaxRequestBytes() < -1 || options.queuedMaxRequestBytes() == 0) {
            throw new IllegalArgumentException("--queued-max-request-bytes must be > 0 or -1, got "
                    + options.queuedMaxRequestBytes());
        }
        if (options.groupInitialRebalanceDelayMs() < 0) {
            throw new IllegalArgumentException("--group-initial-rebalance-delay-ms must be >= 0, got "
                    + options.groupInitialRebalanceDelayMs());
        }
        ListenerUrl metricsListen = options.metricsListener() == null || options.metricsListener().isBlank()
                ? null : MetricsEndpoint.parse(options.metricsListener());
        Plugins.Loaded loaded = Plugins.load(Plugins.directory(options.plugins()));
        Broker broker;
        try {
            broker = Broker.start(new Broker.Settings(listeners, ServerProperties.storageUrl(options.storage(), props),
                    options.clusterId(),
                    options.nodeId(), options.autoCreateTopics(), options.defaultPartitions(),
                    options.groupInitialRebalanceDelayMs(), options.socketRequestMaxBytes(), options.queuedMaxRequestBytes(),
                    security),
                    loaded.modules().isEmpty() ? null : loaded.layer());
        } catch (BindException e) {
            throw new IOException(e.getMessage(), e);
        }
        String metrics = "";
        if (metricsListen != null) {
            try {
                InetSocketAddress bound = broker.serveMetrics(metricsListen);
                metrics = ", metrics " + MetricsEndpoint.url(new ListenerUrl(metricsListen.host(), bound.getPort())) + "/metrics";
            } catch (IOException | RuntimeException e) {
                broker.close();
                throw e;
            }
        }
        String plugin = loaded.describe(broker.storage().getClass());
        // concatenated, not printf: java.util.Formatter would load locale data at every start (~10 ms without the AOT cache)
        out.println("kiri broker listening on " + broker.describeListeners() + ", storage " + broker.storage().describe()
                + (plugin == null ? "" : " [plugin " + plugin + "]") + ", cluster " + broker.config().clusterId()
                + ", node " + options.nodeId() + metrics);
        out.flush();
        return broker;
    }
}
