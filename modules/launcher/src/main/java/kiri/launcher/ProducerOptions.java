package kiri.launcher;

import java.util.Locale;
import kiri.client.ProducerConfig;
import kiri.compress.BatchCompression;
import picocli.CommandLine.Option;

/** Options every producing command shares (kiri cat produce, kiri perf produce): acks, compression, retries. */
final class ProducerOptions {
    @Option(names = "--acks", defaultValue = "all", paramLabel = "A", description = "all, -1, 1 or 0 (default ${DEFAULT-VALUE}).")
    String acks;

    @Option(names = "--compression", defaultValue = "none", paramLabel = "CODEC",
            description = "Batch compression: none, gzip, snappy, lz4 or zstd (default ${DEFAULT-VALUE}).")
    String compression;

    @Option(names = "--delivery-timeout-ms", defaultValue = "120000", paramLabel = "MS",
            description = "Retry a batch that failed retriably (e.g. the broker restarted) for up to MS after its "
                    + "first record was appended, then fail its records (default ${DEFAULT-VALUE}).")
    int deliveryTimeoutMs;

    @Option(names = "--retry-backoff-ms", defaultValue = "100", paramLabel = "MS",
            description = "Wait between retries of a batch (default ${DEFAULT-VALUE}).")
    int retryBackoffMs;

    /** Kafka's producer defaults with these options applied. */
    ProducerConfig config() {
        return ProducerConfig.defaults().withAcks(parseAcks(acks)).withCompression(BatchCompression.forName(compression))
                .withDeliveryTimeoutMs(deliveryTimeoutMs).withRetryBackoffMs(retryBackoffMs);
    }

    static short parseAcks(String acks) {
        return switch (acks.strip().toLowerCase(Locale.ROOT)) {
            case "all", "-1" -> -1;
            case "1" -> 1;
            case "0" -> 0;
            default -> throw new IllegalArgumentException("--acks must be all, -1, 1 or 0, got '" + acks + "'");
        };
    }
}
