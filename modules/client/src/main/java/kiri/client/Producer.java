package kiri.client;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.Header;

/**
 * A batching, pipelining producer. Records are appended straight into v2 record batches (one open
 * batch per partition, in pooled off-heap buffers, reused: {@link RecordAccumulator}); a batch is sent
 * when it is full or {@code lingerMs} after its first record. One sender thread ({@link ProducerSender})
 * groups ready batches by partition leader into one Produce request per broker and keeps up to
 * {@code maxInFlight} requests in flight per connection; responses complete each record's callback
 * with its offset. {@link Partitioner} picks a record's partition when the caller does not.
 *
 * <p>Idempotent by default when {@code acks=all}, like Kafka's producer: InitProducerId gives a
 * producer id and epoch, and each partition numbers its records from sequence 0. With other acks
 * idempotence is off.
 *
 * <p>Retries ({@link ProducerRetries}), like Kafka's producer: a batch that fails with a retriable
 * error (a partition error Kafka marks retriable, such as NOT_LEADER_OR_FOLLOWER or
 * NOT_ENOUGH_REPLICAS, a dropped connection, or a request that timed out, which also closes its connection) is sent again after {@code retryBackoffMs},
 * after a metadata refresh (the connection is re-opened, so a broker restarting on the same address is
 * picked up), until {@code deliveryTimeoutMs} have passed since the batch's first record was appended;
 * then its records fail with the last error. Other errors fail the records at once. A retried batch keeps
 * its sequence numbers and goes out alone, after every earlier request of its partition has come back,
 * in sequence order; batches after it that the broker refused as OUT_OF_ORDER_SEQUENCE_NUMBER are
 * retried behind it, so with idempotence each record is written once and in order per partition (the
 * broker answers a re-sent batch it already stored with its offset; DUPLICATE_SEQUENCE_NUMBER counts as
 * success too, with offset -1). A batch with sequences that fails for good leaves a gap: the sender then
 * waits for every request in flight, takes a new producer id (as Kafka's producer bumps its epoch) and
 * renumbers the waiting batches from 0 (one whose earlier attempt's outcome is unknown, e.g. timed out,
 * could then be written twice). Without idempotence a retry can reorder or duplicate records, as with
 * Kafka's producer when {@code max.in.flight.requests.per.connection} is above 1.
 *
 * <p>Threads: {@link #send} may be called from any thread and blocks only while more than
 * {@code bufferMemory} bytes of batches are pending. Callbacks run on a connection's reader thread
 * (or the sender thread) and must not block.
 */
public final class Producer implements AutoCloseable {
    /**
     * @param acks -1 (all), 1 (leader) or 0 (no response)
     * @param batchSize bytes per batch (a single larger record gets a batch of its own size)
     * @param lingerMs how long a non-full batch waits for more records
     * @param maxInFlight produce requests in flight per broker connection
     * @param idempotent whether to use a producer id and sequences (requires acks=-1)
     * @param requestTimeoutMs how long the broker may take, and how long we wait for it
     * @param bufferMemory bytes of batches that may be pending before {@link #send} blocks
     * @param compression the codec of the batches sent ({@code batchSize} counts uncompressed bytes)
     * @param retryBackoffMs how long a batch that failed retriably waits before it is sent again (Kafka's 100)
     * @param deliveryTimeoutMs how long after its first record was appended a batch may still be retried
     *        (Kafka's 120000); its records then fail with the last error
     */
    public record Config(short acks, int batchSize, int lingerMs, int maxInFlight, boolean idempotent,
            int requestTimeoutMs, long bufferMemory, CompressionType compression, int retryBackoffMs,
            int deliveryTimeoutMs) {
        public Config(short acks, int batchSize, int lingerMs, int maxInFlight, boolean idempotent,
                int requestTimeoutMs, long bufferMemory) {
            this(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, CompressionType.NONE);
        }

        public Config(short acks, int batchSize, int lingerMs, int maxInFlight, boolean idempotent,
                int requestTimeoutMs, long bufferMemory, CompressionType compression) {
            this(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, compression,
                    100, 120_000);
        }

        public Config {
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
        public static Config defaults() {
            return new Config((short) -1, 16384, 5, 5, true, 30_000, 32L << 20);
        }

        /** With these acks; idempotence follows (on for all, off otherwise), as Kafka's producer does by default. */
        public Config withAcks(short a) {
            return new Config(a, batchSize, lingerMs, maxInFlight, a == -1, requestTimeoutMs, bufferMemory, compression,
                    retryBackoffMs, deliveryTimeoutMs);
        }

        public Config withBatchSize(int b) {
            return new Config(acks, b, lingerMs, maxInFlight, idempotent, requestTimeoutMs, Math.max(bufferMemory, b), compression,
                    retryBackoffMs, deliveryTimeoutMs);
        }

        public Config withLingerMs(int l) {
            return new Config(acks, batchSize, l, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, compression,
                    retryBackoffMs, deliveryTimeoutMs);
        }

        public Config withMaxInFlight(int m) {
            return new Config(acks, batchSize, lingerMs, m, idempotent, requestTimeoutMs, bufferMemory, compression,
                    retryBackoffMs, deliveryTimeoutMs);
        }

        public Config withCompression(CompressionType c) {
            return new Config(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory, c,
                    retryBackoffMs, deliveryTimeoutMs);
        }

        public Config withIdempotent(boolean i) {
            return new Config(acks, batchSize, lingerMs, maxInFlight, i, requestTimeoutMs, bufferMemory, compression,
                    retryBackoffMs, deliveryTimeoutMs);
        }

        public Config withRequestTimeoutMs(int t) {
            return new Config(acks, batchSize, lingerMs, maxInFlight, idempotent, t, bufferMemory, compression,
                    retryBackoffMs, deliveryTimeoutMs);
        }

        public Config withRetryBackoffMs(int r) {
            return new Config(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory,
                    compression, r, deliveryTimeoutMs);
        }

        public Config withDeliveryTimeoutMs(int d) {
            return new Config(acks, batchSize, lingerMs, maxInFlight, idempotent, requestTimeoutMs, bufferMemory,
                    compression, retryBackoffMs, d);
        }
    }

    /** Completion of one record: {@code offset} is -1 with acks=0; {@code error} is null on success. */
    @FunctionalInterface
    public interface Callback {
        void onCompletion(long token, int partition, long offset, Throwable error);
    }

    private final RecordAccumulator accumulator;
    private final ProducerSender sender;
    private final Thread senderThread;

    public Producer(Cluster cluster, Config config) throws IOException {
        long producerId = -1;
        short producerEpoch = -1;
        if (config.idempotent()) {
            InitProducerIdResponse response = ProducerSender.initProducerId(cluster);
            producerId = response.producerId();
            producerEpoch = response.producerEpoch();
        }
        this.accumulator = new RecordAccumulator(cluster, config);
        this.sender = new ProducerSender(cluster, config, accumulator, producerId, producerEpoch);
        this.senderThread = Thread.ofPlatform().daemon().name("kiri-producer-sender").start(sender);
    }

    public long producerId() {
        return sender.producerId;
    }

    public short producerEpoch() {
        return sender.producerEpoch;
    }

    /** How many times a batch was queued again after a retriable failure (like Kafka's record-retry metrics). */
    public long retriedBatches() {
        return sender.retriedBatches;
    }

    /** How many times a sequence gap made this producer take a new producer id. */
    public long producerIdResets() {
        return sender.producerIdResets;
    }

    /** Sends one record and returns a future of its offset (allocates per record; see the other send). */
    public CompletableFuture<Long> send(String topic, int partition, byte[] key, byte[] value) throws IOException {
        CompletableFuture<Long> f = new CompletableFuture<>();
        send(topic, partition, key, value, 0, (t, p, offset, error) -> {
            if (error != null) {
                f.completeExceptionally(error);
            } else {
                f.complete(offset);
            }
        });
        return f;
    }

    /**
     * Appends one record; {@code partition} -1 picks one (murmur2 of the key like Kafka, or a sticky
     * partition for null keys). Nothing is allocated per record beyond the caller's arrays.
     * {@code token} is handed back to {@code callback} (e.g. the send time).
     *
     * @throws ClientException if the topic does not exist (and isn't auto-created) or the producer is closed
     */
    public void send(String topic, int partition, byte[] key, byte[] value, long token, Callback callback)
            throws IOException {
        send(topic, partition, key, value, List.of(), token, callback);
    }

    /** The same, with record headers (the caller's list, written as they are; keep it unchanged until this returns). */
    public void send(String topic, int partition, byte[] key, byte[] value, List<Header> headers, long token,
            Callback callback) throws IOException {
        accumulator.append(topic, partition, key, value, headers, token, callback);
    }

    /** Sends everything pending now and waits until every record sent before this call has completed. */
    public void flush() {
        accumulator.flush();
    }

    /** Sends what is pending, waits for it, and stops the sender thread. */
    @Override
    public void close() {
        flush();
        accumulator.close();
        try {
            senderThread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        accumulator.release();
    }
}
