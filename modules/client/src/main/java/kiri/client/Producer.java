package kiri.client;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.lang.foreign.MemorySegment;
import kiri.compress.BatchCompression;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.InitProducerIdRequest;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.protocol.message.ProduceRequest;
import kiri.protocol.message.ProduceResponse;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.Header;
import kiri.protocol.record.RecordBatchBuilder;
import kiri.transport.Buffer;

/**
 * A batching, pipelining producer. Records are appended straight into v2 record batches (one open
 * batch per partition, in pooled off-heap buffers, reused); a batch is sent when it is full or
 * {@code lingerMs} after its first record. One sender thread groups ready batches by partition
 * leader into one Produce request per broker and keeps up to {@code maxInFlight} requests in flight
 * per connection; responses complete each record's callback with its offset.
 *
 * <p>Idempotent by default when {@code acks=all}, like Kafka's producer: InitProducerId gives a
 * producer id and epoch, and each partition numbers its records from sequence 0. With other acks
 * idempotence is off.
 *
 * <p>Retries, like Kafka's producer: a batch that fails with a retriable error (a partition error Kafka
 * marks retriable, such as NOT_LEADER_OR_FOLLOWER or NOT_ENOUGH_REPLICAS, a dropped connection, or a
 * request that timed out, which also closes its connection) is sent again after {@code retryBackoffMs},
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
            java.util.Objects.requireNonNull(compression, "compression");
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

    private static final int MAX_REQUEST_SIZE = 1 << 20;

    private final Cluster cluster;
    private final Config config;
    /** Replaced (under the lock, by the sender) when a sequence gap forces a new producer id. */
    private volatile long producerId;
    private volatile short producerEpoch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Condition space = lock.newCondition();
    /** Read without the lock (one lookup per record); written under it. */
    private final Map<String, TopicState> topics = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<PartitionState> open = new ArrayList<>();
    /** Partitions with closed batches waiting to be sent, each once, in the order they became ready. */
    private final ArrayDeque<PartitionState> readyPartitions = new ArrayDeque<>();
    private final ArrayDeque<Batch> freeBatches = new ArrayDeque<>();
    private final Map<Integer, int[]> inFlight = new HashMap<>();
    private final Thread sender;
    private long pendingBytes;
    private int pendingBatches;
    private boolean flushing;
    private volatile boolean closed;
    /** Set when a batch failed retriably: the sender refreshes metadata (at most once per retry backoff) before sending. */
    private volatile boolean metadataStale;
    private long lastMetadataRefreshNanos;
    /** Produce requests in flight, all brokers. */
    private int requestsInFlight;
    /**
     * Sender thread only: produce requests sent, oldest first, each with the time it times out (they
     * all wait as long, so the head is the next to time out). The sender fails those that time out
     * (one timer per request would wake a scheduler thread twice per request), so a timeout fires late
     * while the sender is busy connecting, refreshing metadata or closing a timed-out connection.
     */
    private final ArrayDeque<PendingRequest> pendingRequests = new ArrayDeque<>();

    private record PendingRequest(long deadlineNanos, CompletableFuture<NodeConnection.Response> future) {
    }
    /**
     * Set when a batch that had sequence numbers failed for good: later sequences of its partition would
     * be refused, so (as Kafka's producer bumps its epoch) nothing more is sent until every request has
     * come back, then a new producer id is fetched and the waiting batches are renumbered from 0.
     */
    private boolean resetNeeded;
    private volatile long retriedBatches;
    private volatile long producerIdResets;

    private static final class TopicState {
        final String name;
        final PartitionState[] partitions;
        int sticky;

        TopicState(String name, PartitionState[] partitions) {
            this.name = name;
            this.partitions = partitions;
        }
    }

    private static final class PartitionState {
        final TopicState topic;
        final int index;
        /** Updated by metadata refreshes, under the lock. */
        int leader;
        int nextSequence;
        Batch batch;
        /** Closed batches not yet sent, oldest first; the partition is in readyPartitions while this is non-empty. */
        final ArrayDeque<Batch> ready = new ArrayDeque<>();
        /** How many of the first batches in {@link #ready} are retries (in sequence order). */
        int retries;
        /** Batches of this partition in flight. */
        int inFlight;

        PartitionState(TopicState topic, int index, int leader) {
            this.topic = topic;
            this.index = index;
            this.leader = leader;
        }
    }

    /** One record batch being filled, waiting, or in flight; reused (with its buffer) once done. */
    private static final class Batch {
        final RecordBatchBuilder builder = new RecordBatchBuilder();
        Buffer buffer;
        int capacity;
        PartitionState partition;
        long createdNanos;
        /** The batch's first sequence once sent by an idempotent producer, else -1. */
        int sequence;
        boolean built;
        int attempts;
        long retryAtNanos;
        /** The outcome of the last attempt: null and the base offset (-1 if unknown), or the error. */
        Throwable error;
        long baseOffset;
        /** Set when the last attempt's failure is to be retried. */
        boolean retry;
        long[] tokens = new long[64];
        Callback[] callbacks = new Callback[64];
        int count;
        int size;

        void add(long token, Callback cb) {
            if (count == tokens.length) {
                tokens = Arrays.copyOf(tokens, count * 2);
                callbacks = Arrays.copyOf(callbacks, count * 2);
            }
            tokens[count] = token;
            callbacks[count] = cb;
            count++;
        }
    }

    public Producer(Cluster cluster, Config config) throws IOException {
        this.cluster = cluster;
        this.config = config;
        if (config.idempotent()) {
            InitProducerIdResponse response = initProducerId(cluster);
            this.producerId = response.producerId();
            this.producerEpoch = response.producerEpoch();
        } else {
            this.producerId = -1;
            this.producerEpoch = -1;
        }
        this.lastMetadataRefreshNanos = System.nanoTime() - retryBackoffNanos() - 1;
        this.sender = Thread.ofPlatform().daemon().name("kiri-producer-sender").start(this::sendLoop);
    }

    private static InitProducerIdResponse initProducerId(Cluster cluster) throws IOException {
        InitProducerIdRequest request = new InitProducerIdRequest().setTransactionalId(null)
                .setTransactionTimeoutMs(Integer.MAX_VALUE).setProducerId(-1).setProducerEpoch((short) -1);
        InitProducerIdResponse response;
        long deadline = System.nanoTime() + cluster.timeout().toNanos();
        while (true) {
            response = (InitProducerIdResponse) NodeConnection.await(
                    cluster.bootstrapConnection().send(ApiKey.INIT_PRODUCER_ID, request), cluster.timeout());
            ErrorCode error = ErrorCode.isKnown(response.errorCode()) ? ErrorCode.forCode(response.errorCode()) : null;
            // a fresh Kafka cluster answers COORDINATOR_LOAD_IN_PROGRESS for a while: retry like Kafka's producer
            if (error == null || !error.retriable() || System.nanoTime() > deadline) {
                break;
            }
            sleep(100);
        }
        ClientException.check(response.errorCode(), null, "InitProducerId");
        return response;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException("interrupted", e);
        }
    }

    public long producerId() {
        return producerId;
    }

    public short producerEpoch() {
        return producerEpoch;
    }

    /** How many times a batch was queued again after a retriable failure (like Kafka's record-retry metrics). */
    public long retriedBatches() {
        return retriedBatches;
    }

    /** How many times a sequence gap made this producer take a new producer id. */
    public long producerIdResets() {
        return producerIdResets;
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
        TopicState t = topicState(topic);
        long now = System.currentTimeMillis();
        lock.lock();
        try {
            while (pendingBytes >= config.bufferMemory() && !closed) {
                work.signal();
                space.awaitUninterruptibly(); // back-pressure: wait for responses to free batches
            }
            if (closed) {
                throw new ClientException("producer is closed");
            }
            PartitionState p = t.partitions[choose(t, partition, key)];
            Batch b = p.batch;
            if (b == null || !b.builder.tryAppend(now, key, value, headers)) {
                if (b != null) {
                    closeBatch(p);
                }
                int needed = RecordBatchBuilder.maxRecordSize(key == null ? -1 : key.length,
                        value == null ? -1 : value.length, headers) + kiri.protocol.record.RecordBatch.HEADER_SIZE;
                b = newBatch(p, Math.max(config.batchSize(), needed));
                if (!b.builder.tryAppend(now, key, value, headers)) {
                    throw new IllegalStateException("record does not fit in a batch of its own size");
                }
            }
            b.add(token, callback);
            if (b.builder.remaining() < 16) {
                closeBatch(p);
            }
        } finally {
            lock.unlock();
        }
    }

    private int choose(TopicState t, int partition, byte[] key) {
        int n = t.partitions.length;
        if (partition >= 0) {
            if (partition >= n) {
                throw new ClientException("topic " + t.name + " has no partition " + partition + " (it has " + n + ")");
            }
            return partition;
        }
        if (key != null) {
            return (murmur2(key) & 0x7fffffff) % n;
        }
        return t.sticky;
    }

    private TopicState topicState(String topic) throws IOException {
        TopicState known = topics.get(topic);
        if (known != null) {
            return known;
        }
        Cluster.TopicInfo info = cluster.topic(topic, true);
        lock.lock();
        try {
            TopicState t = topics.get(topic);
            if (t == null) {
                PartitionState[] parts = new PartitionState[info.partitions().size()];
                t = new TopicState(topic, parts);
                for (int i = 0; i < parts.length; i++) {
                    Cluster.PartitionInfo p = info.partitions().get(i);
                    parts[i] = new PartitionState(t, p.partition(), p.leader());
                }
                t.sticky = java.util.concurrent.ThreadLocalRandom.current().nextInt(parts.length);
                topics.put(topic, t);
            }
            return t;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: takes a batch from the free list (or makes one). */
    private Batch newBatch(PartitionState p, int capacity) {
        Batch b = freeBatches.poll();
        if (b == null) {
            b = new Batch();
        }
        if (b.buffer == null || b.capacity < capacity) {
            if (b.buffer != null) {
                b.buffer.close();
            }
            b.buffer = cluster.pool().acquire(capacity);
            b.capacity = capacity;
        }
        b.builder.wrap(b.buffer.segment(), 0, capacity);
        b.partition = p;
        b.count = 0;
        b.sequence = -1;
        b.built = false;
        b.attempts = 0;
        b.error = null;
        b.retry = false;
        b.createdNanos = System.nanoTime();
        p.batch = b;
        open.add(p);
        work.signal(); // the sender may be waiting without a deadline: this batch's linger starts now
        pendingBytes += b.capacity;
        pendingBatches++;
        return b;
    }

    /** Under the lock: the partition's open batch is full (or due): queue it for sending. */
    private void closeBatch(PartitionState p) {
        Batch b = p.batch;
        p.batch = null;
        open.remove(p);
        if (p.ready.isEmpty()) {
            readyPartitions.add(p);
        }
        p.ready.add(b);
        TopicState t = p.topic;
        if (t.partitions.length > 1) {
            t.sticky = (t.sticky + 1) % t.partitions.length; // like Kafka's sticky partitioner: move on per batch
        }
        if (inFlight(p.leader)[0] < config.maxInFlight()) {
            work.signal(); // otherwise the response that frees a slot wakes the sender
        }
    }

    private int[] inFlight(int node) {
        return inFlight.computeIfAbsent(node, k -> new int[1]);
    }

    /** Sends everything pending now and waits until every record sent before this call has completed. */
    public void flush() {
        lock.lock();
        try {
            flushing = true;
            work.signal();
            while (pendingBatches > 0) {
                space.awaitUninterruptibly();
            }
            flushing = false;
        } finally {
            lock.unlock();
        }
    }

    private void sendLoop() {
        Map<Integer, List<Batch>> byNode = new HashMap<>();
        List<CompletableFuture<NodeConnection.Response>> timedOut = new ArrayList<>();
        while (true) {
            if (resetNeeded) {
                resetProducerId();
            }
            if (metadataStale) {
                refreshMetadata();
            }
            lock.lock();
            try {
                while (true) {
                    if (closed && pendingBatches == 0) {
                        return;
                    }
                    long now = System.nanoTime();
                    long lingerNanos = TimeUnit.MILLISECONDS.toNanos(config.lingerMs());
                    long nextDeadline = Long.MAX_VALUE;
                    for (int i = open.size() - 1; i >= 0; i--) {
                        PartitionState p = open.get(i);
                        long due = p.batch.createdNanos + lingerNanos;
                        if (flushing || closed || due - now <= 0) {
                            closeBatch(p);
                        } else {
                            nextDeadline = Math.min(nextDeadline, due);
                        }
                    }
                    long retryDue = drainable(byNode, now);
                    long timeoutDue = timedOut(timedOut, now);
                    if (!byNode.isEmpty() || !timedOut.isEmpty() || (resetNeeded && requestsInFlight == 0)) {
                        break;
                    }
                    nextDeadline = earlier(earlier(nextDeadline, retryDue), timeoutDue);
                    if (metadataStale) {
                        long refreshAt = lastMetadataRefreshNanos + retryBackoffNanos();
                        if (refreshAt - now <= 0) {
                            break; // refresh metadata (unlocked) before retrying
                        }
                        nextDeadline = earlier(nextDeadline, refreshAt);
                    }
                    if (nextDeadline == Long.MAX_VALUE) {
                        work.awaitUninterruptibly();
                    } else {
                        try {
                            work.awaitNanos(nextDeadline - now);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            } finally {
                lock.unlock();
            }
            for (CompletableFuture<NodeConnection.Response> f : timedOut) {
                f.completeExceptionally(new java.util.concurrent.TimeoutException()); // complete() runs here, unlocked
            }
            timedOut.clear();
            for (Map.Entry<Integer, List<Batch>> e : byNode.entrySet()) {
                sendRequest(e.getKey(), e.getValue());
            }
            byNode.clear();
        }
    }

    /**
     * On the sender thread: forgets answered requests at the head of {@link #pendingRequests}, moves those
     * whose time is up to {@code out}, and returns when the next one times out (or Long.MAX_VALUE).
     */
    private long timedOut(List<CompletableFuture<NodeConnection.Response>> out, long now) {
        if (pendingRequests.size() > 2 * requestsInFlight + 64) {
            // answered requests to other brokers pile up behind one that a silent broker keeps at the head
            pendingRequests.removeIf(r -> r.future().isDone());
        }
        PendingRequest head;
        while ((head = pendingRequests.peek()) != null) {
            if (head.future().isDone()) {
                pendingRequests.poll();
            } else if (head.deadlineNanos() - now <= 0) {
                pendingRequests.poll();
                out.add(head.future());
            } else {
                return head.deadlineNanos();
            }
        }
        return Long.MAX_VALUE;
    }

    /** The earlier of two {@link System#nanoTime} deadlines, where Long.MAX_VALUE is none. */
    private static long earlier(long a, long b) {
        if (a == Long.MAX_VALUE) {
            return b;
        }
        return b == Long.MAX_VALUE || a - b < 0 ? a : b;
    }

    /** How long the client waits for a produce response: the broker's own timeout plus 5 s for the way back. */
    private long requestTimeoutMs() {
        return config.requestTimeoutMs() + 5_000L;
    }

    private long retryBackoffNanos() {
        return TimeUnit.MILLISECONDS.toNanos(config.retryBackoffMs());
    }

    /**
     * On the sender thread, unlocked: re-reads the leaders of every known partition (at most once per
     * retry backoff). A failure (the broker is down) leaves the metadata stale, to be tried again.
     */
    private void refreshMetadata() {
        long now = System.nanoTime();
        if (now - lastMetadataRefreshNanos < retryBackoffNanos()) {
            return;
        }
        lastMetadataRefreshNanos = now;
        metadataStale = false;
        Cluster.Metadata m;
        try {
            m = cluster.metadata(new ArrayList<>(topics.keySet()), false);
        } catch (IOException | RuntimeException e) {
            metadataStale = true;
            return;
        }
        lock.lock();
        try {
            for (TopicState t : topics.values()) {
                Cluster.TopicInfo info = m.topics().get(t.name);
                if (info == null || info.error() != 0) {
                    continue;
                }
                for (Cluster.PartitionInfo pi : info.partitions()) {
                    if (pi.partition() >= 0 && pi.partition() < t.partitions.length) {
                        t.partitions[pi.partition()].leader = pi.leader();
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Under the lock: moves ready batches into per-node requests while the node has room in flight, at
     * most one batch per partition per request (the oldest), partitions taking turns. A retried batch
     * waits for its backoff and for every earlier request of its partition to come back, and then goes
     * out alone. Returns when the earliest backed-off batch is due (or Long.MAX_VALUE).
     */
    private long drainable(Map<Integer, List<Batch>> byNode, long now) {
        if (resetNeeded) {
            return Long.MAX_VALUE; // nothing goes out until a new producer id renumbers the batches
        }
        Map<Integer, Integer> requestBytes = null;
        long retryDue = Long.MAX_VALUE;
        for (int i = 0, n = readyPartitions.size(); i < n; i++) {
            PartitionState p = readyPartitions.poll();
            Batch b = p.ready.peek();
            int node = p.leader;
            List<Batch> list = byNode.get(node);
            int bytes = list == null ? 0 : requestBytes.get(node);
            boolean take;
            if (p.retries > 0 && p.inFlight > 0) {
                take = false; // the partition's in-flight requests come back (or fail) first; then its retries go in order
            } else if (b.retry && b.retryAtNanos - now > 0) {
                take = false;
                if (retryDue == Long.MAX_VALUE || b.retryAtNanos - retryDue < 0) {
                    retryDue = b.retryAtNanos;
                }
            } else {
                take = list == null ? inFlight(node)[0] < config.maxInFlight()
                        : bytes + (b.built ? b.size : b.builder.sizeInBytes()) <= MAX_REQUEST_SIZE;
            }
            if (take) {
                p.ready.poll();
                if (p.retries > 0) {
                    p.retries--;
                }
                p.inFlight++;
                b.retry = false;
                if (list == null) {
                    list = new ArrayList<>();
                    byNode.put(node, list);
                    inFlight(node)[0]++;
                    requestsInFlight++;
                    if (requestBytes == null) {
                        requestBytes = new HashMap<>();
                    }
                }
                if (!b.built) {
                    if (producerId >= 0) {
                        b.builder.producer(producerId, producerEpoch, p.nextSequence);
                        b.sequence = p.nextSequence;
                        p.nextSequence += b.count;
                    }
                    b.size = b.builder.build();
                    b.built = true;
                }
                list.add(b);
                requestBytes.put(node, bytes + b.size);
            }
            if (!p.ready.isEmpty()) {
                readyPartitions.add(p);
            }
        }
        return retryDue;
    }

    private void sendRequest(int node, List<Batch> batches) {
        Map<String, ProduceRequest.TopicProduceData> byTopic = new java.util.LinkedHashMap<>();
        for (Batch b : batches) {
            ProduceRequest.TopicProduceData t = byTopic.computeIfAbsent(b.partition.topic.name,
                    name -> new ProduceRequest.TopicProduceData().setName(name));
            MemorySegment records = b.buffer.segment().asSlice(0, b.size);
            if (config.compression() != CompressionType.NONE) {
                records = BatchCompression.compress(records, config.compression()); // on the sender thread, unlocked
            }
            t.partitionData().add(new ProduceRequest.PartitionProduceData().setIndex(b.partition.index)
                    .setRecords(records));
        }
        ProduceRequest request = new ProduceRequest().setAcks(config.acks()).setTimeoutMs(config.requestTimeoutMs())
                .setTopicData(new ArrayList<>(byTopic.values()));
        boolean expectResponse = config.acks() != 0;
        CompletableFuture<NodeConnection.Response> future;
        NodeConnection connection = null;
        try {
            connection = cluster.node(node);
            future = connection.sendRaw(ApiKey.PRODUCE, request, expectResponse);
        } catch (IOException | RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        NodeConnection used = connection;
        if (!future.isDone()) {
            pendingRequests.add(new PendingRequest(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(requestTimeoutMs()),
                    future));
        }
        future.whenComplete((response, error) -> complete(node, used, batches, response, error));
    }

    private void complete(int node, NodeConnection connection, List<Batch> batches, NodeConnection.Response response,
            Throwable error) {
        boolean timedOut = false; // or otherwise untrustworthy: close the connection
        // which batches went back to their queue: from then on the sender owns them (another attempt may even
        // complete before this method ends), so this method must not look at their fields again
        boolean[] retried = null;
        try {
            try {
                if (error != null) {
                    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                            ? error.getCause() : error;
                    if (cause instanceof java.util.concurrent.TimeoutException) {
                        timedOut = true;
                        cause = new ClientException("produce request to broker " + node + " timed out after "
                                + requestTimeoutMs() + " ms", ErrorCode.REQUEST_TIMED_OUT, cause);
                    } else if (cause instanceof kiri.protocol.ProtocolException) {
                        // e.g. a response matched to the wrong request while the connection was failing: the
                        // connection can't be trusted; retry elsewhere (idempotence makes a re-send safe)
                        timedOut = true;
                        cause = new ClientException("bad response from broker " + node + ": " + cause.getMessage(),
                                ErrorCode.NETWORK_EXCEPTION, cause);
                    }
                    for (Batch b : batches) {
                        b.error = cause;
                    }
                } else if (response == null) {
                    for (Batch b : batches) {
                        b.error = null;
                        b.baseOffset = -1;
                    }
                } else {
                    ProduceResponse r = (ProduceResponse) response.body();
                    for (Batch b : batches) {
                        ProduceResponse.PartitionProduceResponse pr = find(r, b);
                        if (pr == null) {
                            b.error = new ClientException("no response for " + b.partition.topic.name + "-"
                                    + b.partition.index);
                        } else if (pr.errorCode() == 0 || pr.errorCode() == ErrorCode.DUPLICATE_SEQUENCE_NUMBER.code()) {
                            b.error = null; // a duplicate was stored by an earlier attempt
                            b.baseOffset = pr.baseOffset();
                        } else {
                            b.error = ClientException.of(pr.errorCode(), pr.errorMessage(),
                                    "produce to " + b.partition.topic.name + "-" + b.partition.index);
                        }
                    }
                }
            } catch (RuntimeException e) {
                for (Batch b : batches) {
                    b.error = e;
                }
            } finally {
                if (response != null) {
                    response.close();
                }
            }
            long now = System.nanoTime();
            lock.lock();
            try {
                inFlight.get(node)[0]--;
                requestsInFlight--;
                for (int i = 0; i < batches.size(); i++) {
                    Batch b = batches.get(i);
                    PartitionState p = b.partition;
                    p.inFlight--;
                    if (b.error != null && retriable(b, p, now)) {
                        if (retried == null) {
                            retried = new boolean[batches.size()];
                        }
                        retried[i] = true;
                        retriedBatches++; // under the lock
                        b.retry = true;
                        b.attempts++;
                        b.retryAtNanos = now + retryBackoffNanos();
                        requeue(p, b);
                    } else if (b.error != null && b.sequence >= 0) {
                        resetNeeded = true; // its sequences leave a gap
                    }
                }
                if (retried != null) {
                    metadataStale = true;
                }
                work.signal();
            } finally {
                lock.unlock();
            }
            if (timedOut && connection != null) {
                connection.close(); // like Kafka: after a timeout (or a garbled response) the connection is not trusted
            }
            for (int i = 0; i < batches.size(); i++) {
                Batch b = batches.get(i);
                if (retried != null && retried[i]) {
                    continue;
                }
                if (b.error == null) {
                    succeed(b, b.baseOffset);
                } else {
                    fail(b, b.error);
                }
            }
        } finally {
            lock.lock();
            try {
                for (int i = 0; i < batches.size(); i++) {
                    Batch b = batches.get(i);
                    if (retried != null && retried[i]) {
                        continue;
                    }
                    recycle(b);
                }
                space.signalAll();
                work.signal();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * On the sender thread, unlocked, once every request has come back after a sequenced batch failed for
     * good: fetches a new producer id and renumbers the waiting (retried) batches of each partition from
     * sequence 0. While the broker can't be reached, waiting batches past their delivery timeout fail.
     */
    private void resetProducerId() {
        lock.lock();
        try {
            if (!resetNeeded || requestsInFlight > 0) {
                return;
            }
        } finally {
            lock.unlock();
        }
        InitProducerIdResponse response;
        try {
            response = initProducerId(cluster);
        } catch (IOException | RuntimeException e) {
            expireWaiting(e);
            try {
                Thread.sleep(Math.max(1, config.retryBackoffMs()));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        lock.lock();
        try {
            producerId = response.producerId();
            producerEpoch = response.producerEpoch();
            for (TopicState t : topics.values()) {
                for (PartitionState p : t.partitions) {
                    int sequence = 0;
                    for (Batch b : p.ready) {
                        if (b.built && b.sequence >= 0) {
                            restamp(b, producerId, producerEpoch, sequence);
                            sequence += b.count;
                        }
                    }
                    p.nextSequence = sequence;
                }
            }
            resetNeeded = false;
            producerIdResets++; // under the lock
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Rewrites a built batch's producer id, epoch and base sequence, and its CRC. */
    private static void restamp(Batch b, long producerId, short producerEpoch, int sequence) {
        MemorySegment s = b.buffer.segment();
        s.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN),
                kiri.protocol.record.RecordBatch.PRODUCER_ID_OFFSET, producerId);
        s.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN),
                kiri.protocol.record.RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        s.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN),
                kiri.protocol.record.RecordBatch.BASE_SEQUENCE_OFFSET, sequence);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        int from = kiri.protocol.record.RecordBatch.ATTRIBUTES_OFFSET;
        crc.update(s.asSlice(from, b.size - from).asByteBuffer());
        s.set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN),
                kiri.protocol.record.RecordBatch.CRC_OFFSET, (int) crc.getValue());
        b.sequence = sequence;
    }

    /** Unlocked: fails the waiting batches whose delivery timeout has passed (oldest first per partition). */
    private void expireWaiting(Throwable error) {
        List<Batch> expired = new ArrayList<>();
        long now = System.nanoTime();
        long timeout = TimeUnit.MILLISECONDS.toNanos(config.deliveryTimeoutMs());
        lock.lock();
        try {
            for (int i = 0, n = readyPartitions.size(); i < n; i++) {
                PartitionState p = readyPartitions.poll();
                while (!p.ready.isEmpty() && now - p.ready.peek().createdNanos >= timeout) {
                    Batch b = p.ready.poll();
                    if (p.retries > 0) {
                        p.retries--;
                    }
                    expired.add(b);
                }
                if (!p.ready.isEmpty()) {
                    readyPartitions.add(p);
                }
            }
        } finally {
            lock.unlock();
        }
        if (expired.isEmpty()) {
            return;
        }
        try {
            for (Batch b : expired) {
                fail(b, b.error != null ? b.error : error);
            }
        } finally {
            lock.lock();
            try {
                for (Batch b : expired) {
                    recycle(b);
                }
                space.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Under the lock: whether a failed batch is sent again: its delivery timeout has not passed, and its
     * error is retriable (a connection or timeout failure, a partition error Kafka marks retriable, or
     * OUT_OF_ORDER_SEQUENCE_NUMBER behind an earlier batch of the partition that is being retried, or
     * while a gap waits for a new producer id).
     */
    private boolean retriable(Batch b, PartitionState p, long now) {
        if (now - b.createdNanos >= TimeUnit.MILLISECONDS.toNanos(config.deliveryTimeoutMs())) {
            return false;
        }
        Throwable e = b.error;
        if (e instanceof ClientException ce && ce.error() != null) {
            if (ce.error() == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
                if (resetNeeded) {
                    return b.sequence >= 0; // behind a batch that failed for good: renumbered under the new producer id
                }
                Batch first = p.retries > 0 ? p.ready.peek() : null;
                return first != null && b.sequence >= 0 && first.sequence >= 0 && first.sequence < b.sequence;
            }
            return ce.error().retriable();
        }
        // client-side: I/O (connection refused or dropped), a timeout, a broker missing from metadata
        return e instanceof IOException || e instanceof java.io.UncheckedIOException
                || e instanceof java.util.concurrent.TimeoutException || e instanceof ClientException;
    }

    /** Under the lock: a batch whose records all completed goes back to the free list, its buffer space freed. */
    private void recycle(Batch b) {
        pendingBytes -= b.capacity;
        pendingBatches--;
        b.partition = null;
        b.error = null;
        b.retry = false;
        Arrays.fill(b.callbacks, 0, b.count, null);
        freeBatches.push(b);
    }

    /** Under the lock: puts a batch to retry back at the head of its partition's queue, retries in sequence order. */
    private void requeue(PartitionState p, Batch b) {
        if (p.ready.isEmpty()) {
            readyPartitions.add(p);
        }
        if (p.retries == 0) {
            p.ready.addFirst(b);
        } else {
            List<Batch> head = new ArrayList<>(p.retries + 1);
            for (int i = 0; i < p.retries; i++) {
                head.add(p.ready.poll());
            }
            int at = head.size();
            if (b.sequence >= 0) {
                while (at > 0 && head.get(at - 1).sequence > b.sequence) {
                    at--;
                }
            }
            head.add(at, b);
            for (int i = head.size() - 1; i >= 0; i--) {
                p.ready.addFirst(head.get(i));
            }
        }
        p.retries++;
    }

    private static ProduceResponse.PartitionProduceResponse find(ProduceResponse r, Batch b) {
        for (ProduceResponse.TopicProduceResponse t : r.responses()) {
            if (t.name().equals(b.partition.topic.name)) {
                for (ProduceResponse.PartitionProduceResponse p : t.partitionResponses()) {
                    if (p.index() == b.partition.index) {
                        return p;
                    }
                }
            }
        }
        return null;
    }

    private static void succeed(Batch b, long baseOffset) {
        int partition = b.partition.index;
        for (int i = 0; i < b.count; i++) {
            b.callbacks[i].onCompletion(b.tokens[i], partition, baseOffset < 0 ? -1 : baseOffset + i, null);
        }
    }

    private static void fail(Batch b, Throwable error) {
        int partition = b.partition.index;
        for (int i = 0; i < b.count; i++) {
            b.callbacks[i].onCompletion(b.tokens[i], partition, -1, error);
        }
    }

    /** Kafka's murmur2 (as in its default partitioner), so keyed records land where Kafka's clients put them. */
    static int murmur2(byte[] data) {
        int length = data.length;
        int seed = 0x9747b28c;
        final int m = 0x5bd1e995;
        final int r = 24;
        int h = seed ^ length;
        int length4 = length / 4;
        for (int i = 0; i < length4; i++) {
            final int i4 = i * 4;
            int k = (data[i4] & 0xff) + ((data[i4 + 1] & 0xff) << 8) + ((data[i4 + 2] & 0xff) << 16)
                    + ((data[i4 + 3] & 0xff) << 24);
            k *= m;
            k ^= k >>> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        int tail = length % 4;
        if (tail == 3) {
            h ^= (data[(length & ~3) + 2] & 0xff) << 16;
        }
        if (tail >= 2) {
            h ^= (data[(length & ~3) + 1] & 0xff) << 8;
        }
        if (tail >= 1) {
            h ^= data[length & ~3] & 0xff;
            h *= m;
        }
        h ^= h >>> 13;
        h *= m;
        h ^= h >>> 15;
        return h;
    }

    /** Sends what is pending, waits for it, and stops the sender thread. */
    @Override
    public void close() {
        flush();
        lock.lock();
        try {
            closed = true;
            work.signal();
            space.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            sender.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            for (Batch b : freeBatches) {
                b.buffer.close();
            }
            freeBatches.clear();
        } finally {
            lock.unlock();
        }
    }
}
