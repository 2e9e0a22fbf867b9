package kiri.launcher;

import java.io.IOException;
import java.time.Duration;
import kiri.client.Cluster;
import picocli.CommandLine.Option;

/** Options every client command shares: where the cluster is. */
final class ClientOptions {
    @Option(names = {"--bootstrap", "--bootstrap-server", "-b"}, paramLabel = "HOST:PORT[,...]",
            defaultValue = "${env:KIRI_BOOTSTRAP:-localhost:9092}",
            description = "Broker(s) to bootstrap from (KIRI_BOOTSTRAP; default ${DEFAULT-VALUE}).")
    String bootstrap;

    @Option(names = "--request-timeout-ms", paramLabel = "MS", defaultValue = "30000",
            description = "How long to wait for a broker's answer (default ${DEFAULT-VALUE}).")
    int timeoutMs;

    @Option(names = "--verbose", description = "Print stack traces with errors.")
    boolean verbose;

    Cluster connect() throws IOException {
        if (timeoutMs < 1) {
            throw new IllegalArgumentException("--request-timeout-ms must be >= 1, got " + timeoutMs);
        }
        return Cluster.connect(bootstrap, "kiri-cli", Duration.ofMillis(timeoutMs));
    }
}
