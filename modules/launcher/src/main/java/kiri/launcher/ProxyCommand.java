package kiri.launcher;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import kiri.proxy.Proxy;
import kiri.proxy.ProxyConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiri proxy}: runs a Kafka protocol proxy in front of a cluster until SIGTERM or Ctrl-C. */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = {"Run a Kafka protocol proxy: clients connect to it as if it were the origin cluster.",
                "Each origin broker gets its own proxy port: the broker port base plus its node id."})
final class ProxyCommand implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--listener", paramLabel = "URL", defaultValue = "${env:KIRI_PROXY_LISTENER:-tcp://0.0.0.0:9192}",
            description = "Where the bootstrap listener listens (KIRI_PROXY_LISTENER; default ${DEFAULT-VALUE}).")
    String listener;

    @Option(names = "--advertised-listener", paramLabel = "URL", defaultValue = "${env:KIRI_PROXY_ADVERTISED_LISTENER}",
            description = "The address clients are told to connect to (KIRI_PROXY_ADVERTISED_LISTENER; "
                    + "default: the listener, with localhost for a wildcard host).")
    String advertisedListener;

    @Option(names = "--origin", paramLabel = "URL", split = ",", defaultValue = "${env:KIRI_PROXY_ORIGIN}",
            description = "Bootstrap address(es) of the origin cluster, tcp://HOST:PORT, comma-separated (KIRI_PROXY_ORIGIN).")
    List<String> origins;

    @Option(names = "--broker-port-base", paramLabel = "PORT", defaultValue = "-1",
            description = "Origin broker N gets proxy port PORT+N (default: the listener port + 1; "
                    + "ephemeral ports when the listener port is 0).")
    int brokerPortBase;

    @Option(names = "--connect-timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "How long a connect to an origin broker may take (default ${DEFAULT-VALUE}).")
    long connectTimeoutMs;

    @Option(names = "--event-loops", paramLabel = "N", defaultValue = "0",
            description = "Selector threads per listener and for origin connections (default: one per processor).")
    int eventLoops;

    @Option(names = "--ssl-keystore-location", paramLabel = "FILE", defaultValue = "${env:KIRI_PROXY_SSL_KEYSTORE_LOCATION}",
            description = "Serve TLS on every proxy listener with this key store (PKCS12, JKS or PEM: a PKCS#8 key "
                    + "and its certificate chain), as Kafka's ssl.keystore.location (KIRI_PROXY_SSL_KEYSTORE_LOCATION).")
    String keystore;

    @Option(names = "--ssl-keystore-type", paramLabel = "TYPE", defaultValue = "PKCS12",
            description = "PKCS12 (default), JKS or PEM, as Kafka's ssl.keystore.type.")
    String keystoreType;

    @Option(names = "--ssl-keystore-password", paramLabel = "PASSWORD", defaultValue = "${env:KIRI_PROXY_SSL_KEYSTORE_PASSWORD}",
            description = "The key store's password (or the PEM key's, if encrypted) (KIRI_PROXY_SSL_KEYSTORE_PASSWORD).")
    String keystorePassword;

    @Option(names = "--origin-ssl", description = "Speak TLS to the origin brokers, as a Kafka client with "
            + "security.protocol=SSL (SASL still passes through, so SASL_SSL origins work); implied by the --origin-ssl-*-location options.")
    boolean originSsl;

    @Option(names = "--origin-ssl-truststore-location", paramLabel = "FILE",
            defaultValue = "${env:KIRI_PROXY_ORIGIN_SSL_TRUSTSTORE_LOCATION}",
            description = "Certificates the origin's may chain to (PKCS12, JKS or PEM), as Kafka's ssl.truststore.location "
                    + "(KIRI_PROXY_ORIGIN_SSL_TRUSTSTORE_LOCATION; default: the JDK's trusted CAs).")
    String originTruststore;

    @Option(names = "--origin-ssl-truststore-type", paramLabel = "TYPE", defaultValue = "PKCS12",
            description = "PKCS12 (default), JKS or PEM, as Kafka's ssl.truststore.type.")
    String originTruststoreType;

    @Option(names = "--origin-ssl-truststore-password", paramLabel = "PASSWORD",
            defaultValue = "${env:KIRI_PROXY_ORIGIN_SSL_TRUSTSTORE_PASSWORD}",
            description = "The trust store's password, if any (KIRI_PROXY_ORIGIN_SSL_TRUSTSTORE_PASSWORD).")
    String originTruststorePassword;

    @Option(names = "--origin-ssl-keystore-location", paramLabel = "FILE",
            defaultValue = "${env:KIRI_PROXY_ORIGIN_SSL_KEYSTORE_LOCATION}",
            description = "The proxy's own certificate and key for origins that require one (mTLS), as Kafka's "
                    + "ssl.keystore.location (KIRI_PROXY_ORIGIN_SSL_KEYSTORE_LOCATION).")
    String originKeystore;

    @Option(names = "--origin-ssl-keystore-type", paramLabel = "TYPE", defaultValue = "PKCS12",
            description = "PKCS12 (default), JKS or PEM.")
    String originKeystoreType;

    @Option(names = "--origin-ssl-keystore-password", paramLabel = "PASSWORD",
            defaultValue = "${env:KIRI_PROXY_ORIGIN_SSL_KEYSTORE_PASSWORD}",
            description = "The key store's password (KIRI_PROXY_ORIGIN_SSL_KEYSTORE_PASSWORD).")
    String originKeystorePassword;

    @Option(names = "--origin-ssl-endpoint-identification-algorithm", paramLabel = "ALG", defaultValue = "https",
            description = "As Kafka's ssl.endpoint.identification.algorithm: https (default) checks that the origin's "
                    + "certificate names the host the proxy connects to; an empty value turns the check off.")
    String originEndpointIdentification;

    @Option(names = "--verbose", description = "Print stack traces with errors.")
    boolean verbose;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (origins == null || origins.isEmpty() || origins.stream().allMatch(String::isBlank)) {
            throw new IllegalArgumentException("--origin is required: the origin cluster's tcp://HOST:PORT");
        }
        ListenerUrl listen = ListenerUrl.parse(listener);
        ListenerUrl advertised = advertisedListener != null && !advertisedListener.isBlank()
                ? ListenerUrl.parse(advertisedListener)
                : new ListenerUrl(isWildcard(listen.host()) ? "localhost" : listen.host(), listen.port());
        List<InetSocketAddress> originAddresses = new ArrayList<>();
        for (String o : origins) {
            if (!o.isBlank()) {
                ListenerUrl u = ListenerUrl.parse(o.strip());
                if (u.port() == 0) {
                    throw new IllegalArgumentException("origin '" + o + "' needs a port");
                }
                originAddresses.add(InetSocketAddress.createUnresolved(u.host(), u.port()));
            }
        }
        if (connectTimeoutMs <= 0) {
            throw new IllegalArgumentException("--connect-timeout-ms must be > 0, got " + connectTimeoutMs);
        }
        if (eventLoops < 0) {
            throw new IllegalArgumentException("--event-loops must be positive (0: one per processor), got " + eventLoops);
        }
        int loops = eventLoops == 0 ? Runtime.getRuntime().availableProcessors() : eventLoops;
        int base = brokerPortBase >= 0 ? brokerPortBase : listen.port() == 0 ? -1 : listen.port() + 1;
        ProxyConfig config = new ProxyConfig(new InetSocketAddress(listen.host(), listen.port()), advertised.host(),
                advertised.port(), originAddresses, base, loops,
                Duration.ofMillis(connectTimeoutMs));
        if (given(keystore)) {
            config = config.withTls(new kiri.transport.TlsConfig(kiri.transport.TlsFiles.context(
                    java.nio.file.Path.of(keystore), keystoreType, keystorePassword, null, null, null), "none",
                    List.of("TLSv1.3", "TLSv1.2")));
        }
        if (originSsl || given(originTruststore) || given(originKeystore)) {
            if (!List.of("https", "").contains(originEndpointIdentification.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("--origin-ssl-endpoint-identification-algorithm must be https or empty, got "
                        + originEndpointIdentification);
            }
            config = config.withOriginTls(new kiri.proxy.OriginTls(kiri.transport.TlsFiles.context(
                    given(originKeystore) ? java.nio.file.Path.of(originKeystore) : null, originKeystoreType,
                    originKeystorePassword, given(originTruststore) ? java.nio.file.Path.of(originTruststore) : null,
                    originTruststoreType, originTruststorePassword), List.of("TLSv1.3", "TLSv1.2"),
                    originEndpointIdentification));
        }
        Proxy proxy;
        try {
            proxy = Proxy.start(config);
        } catch (BindException e) {
            throw new IOException(e.getMessage(), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            stopped.countDown();
        }, "kiri-shutdown"));
        spec.commandLine().getOut().printf("kiri proxy listening on %s (advertised %s), origin %s, broker ports %s%n",
                new ListenerUrl(listen.host(), proxy.localAddress().getPort()), "tcp://" + proxy.advertised(),
                String.join(",", origins) + (config.originTls() != null ? " over TLS" : ""), base < 0 ? "ephemeral" : base + "+node id");
        spec.commandLine().getOut().flush();
        stopped.await();
        return 0;
    }

    private static boolean given(String option) {
        return option != null && !option.isBlank();
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }
}
