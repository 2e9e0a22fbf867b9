package kiri.client;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import kiri.protocol.message.InitProducerIdResponse;
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
    /** Completion of one record: {@code offset} is -1 with acks=0; {@code error} is null on success. */
    @FunctionalInterface
    public interface Callback {
        void onCompletion(long token, int partition, long offset, Throwable error);
    }

    private final RecordAccumulator accumulator;
    private final ProducerSender sender;
    private final Thread senderThread;

    public Producer(Cluster cluster, ProducerConfig config) throws IOException {
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
