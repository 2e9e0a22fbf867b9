package kiri.client;

import java.util.Objects;
import kiri.protocol.record.CompressionType;

/**
 * What a {@link Producer} is built with, as immutable withers over Kafka's producer defaults
 * ({@link #defaults()}); names follow Kafka's producer configs ({@code acks}, {@code batch.size},
 * {@code linger.ms}, ...). Immutable and thread-safe.
 *
 * @param acks -1 (all), 1 (leader) or 0 (no response)
 * @param batchSize bytes per batch (a single larger record gets a batch of its own size)
 * @param lingerMs how long a non-full batch waits for more records
 * @param maxInFlight produce requests in flight per broker connection
 * @param idempotent whether to use a producer id and sequences (requires acks=-1)
 * @param requestTimeoutMs how long the broker may take, and how long we wait for it
 * @param bufferMemory bytes of batches that may be pending before {@link Producer#send} blocks
 * @param compression the codec of the batches sent ({@code batchSize} counts uncompressed bytes)
 * @param retryBackoffMs how long a batch that failed retriably waits before it is sent again (Kafka's 100)
 * @param deliveryTimeoutMs how long after its first record was appended a batch may still be retried
 *        (Kafka's 120000); its records then fail with the last error
 */
public record ProducerConfig(short acks, int batchSize, int lingerMs, int maxInFlight, boolean idempotent,
        int requestTimeoutMs, long bufferMemory, CompressionType compression, int retryBackoffMs,
        int deliveryTimeoutMs) {
    public ProducerConfig(short acks, int batchSize, int lingerMs, int maxInFlight, boolean idempotent,
            int requestTimeoutMs, long bufferMemory) {
        this(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, CompressionType.NONE);
    }

    public ProducerConfig(short acks, int batchSize, int lingerMs, int maxInFlight, boolean idempotent,
            int requestTimeoutMs, long bufferMemory, CompressionType compression) {
        this(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, compression,
                100, 120_000);
    }

    public ProducerConfig {
        Objects.requireNonNull(compression, "compression");
        if (acks != -1 && acks != 0 && acks != 1) {
            throw new IllegalArgumentException("acks must be -1 (all), 0 or 1, got " + acks);
        }
        if (batchSize < 128) {
            throw new IllegalArgumentException("batch size must be >= 128 bytes, got " + batchSize);
        }
        if (lingerMs < 0 || maxInFlight < 1 || requestTimeoutMs < 1 || bufferMemory < batchSize) {
            throw new IllegalArgumentException("linger must be >= 0, in-flight >= 1, timeout >= 1 and buffer "
                    + "memory >= batch size");
        }
        if (retryBackoffMs < 0 || deliveryTimeoutMs < 1) {
            throw new IllegalArgumentException("retry backoff must be >= 0 and delivery timeout >= 1 ms");
        }
        if (idempotent && acks != -1) {
            throw new IllegalArgumentException("an idempotent producer needs acks=all (-1)");
        }
    }

    /**
     * Kafka's defaults: acks=all, 16 KiB batches, linger 5 ms, 5 in flight, idempotent, 30 s, 32 MiB,
     * retry backoff 100 ms, delivery timeout 120 s.
     */
    public static ProducerConfig defaults() {
        return new ProducerConfig((short) -1, 16384, 5, 5, true, 30_000, 32L << 20);
    }

    /** With these acks; idempotence follows (on for all, off otherwise), as Kafka's producer does by default. */
    public ProducerConfig withAcks(short a) {
        return new ProducerConfig(a, batchSize, lingerMs, maxInFlight, a == -1, requestTimeoutMs, bufferMemory, compression,
                retryBackoffMs, deliveryTimeoutMs);
    }

    public ProducerConfig withBatchSize(int b) {
        return new ProducerConfig(acks, b, lingerMs, maxInFlight, idempotent, requestTimeoutMs, Math.max(bufferMemory, b), compression,
                retryBackoffMs, deliveryTimeoutMs);
    }

    public ProducerConfig withLingerMs(int l) {
        return new ProducerConfig(acks, batchSize, l, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, compression,
                retryBackoffMs, deliveryTimeoutMs);
    }

    public ProducerConfig withMaxInFlight(int m) {
        return new ProducerConfig(acks, batchSize, lingerMs, m, idempotent, requestTimeoutMs, bufferMemory, compression,
                retryBackoffMs, deliveryTimeoutMs);
    }

    public ProducerConfig withCompression(CompressionType c) {
        return new ProducerConfig(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, c,
                retryBackoffMs, deliveryTimeoutMs);
    }

    public ProducerConfig withIdempotent(boolean i) {
        return new ProducerConfig(acks, batchSize, lingerMs, maxInFlight, i, requestTimeoutMs, bufferMemory, compression,
                retryBackoffMs, deliveryTimeoutMs);
    }

    public ProducerConfig withRequestTimeoutMs(int t) {
        return new ProducerConfig(acks, batchSize, lingerMs, maxInFlight, idempotent, t, bufferMemory, compression,
                retryBackoffMs, deliveryTimeoutMs);
    }

    public ProducerConfig withRetryBackoffMs(int r) {
        return new ProducerConfig(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory,
                compression, r, deliveryTimeoutMs);
    }

    public ProducerConfig withDeliveryTimeoutMs(int d) {
        return new ProducerConfig(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory,
                compression, retryBackoffMs, d);
    }
}
