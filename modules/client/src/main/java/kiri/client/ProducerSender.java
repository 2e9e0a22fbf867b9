package kiri.client;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kiri.compress.BatchCompression;
import kiri.protocol.ErrorCode;
import kiri.protocol.ProtocolException;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.InitProducerIdRequest;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.protocol.message.ProduceRequest;
import kiri.protocol.message.ProduceResponse;
import kiri.protocol.record.CompressionType;

/**
 * The {@link Producer}'s sender: groups the accumulator's ready batches by partition leader into one
 * Produce request per broker (up to {@code maxInFlight} per connection, at most one batch per
 * partition per request), stamps producer id and sequences on a batch when it first goes out,
 * completes each record's callback from the response, hands failures to {@link ProducerRetries},
 * times requests out, refreshes metadata after a retriable failure and takes a new producer id after a
 * sequence gap.
 *
 * <p>Threading: {@link #run} is the body of the one sender thread; it takes the
 * {@link RecordAccumulator}'s lock to pick batches and sends unlocked. Responses are handled on the
 * connection's reader thread (or here, when sending fails at once), which takes the lock to requeue
 * and recycle and completes callbacks unlocked.
 */
final class ProducerSender implements Runnable {
    private static final int MAX_REQUEST_SIZE = 1 << 20;

    private final Cluster cluster;
    private final ProducerConfig config;
    private final RecordAccumulator accumulator;
    private final ProducerRetries retries;
    /** Replaced (under the lock, by the sender) when a sequence gap forces a new producer id; read by {@link Producer}. */
    volatile long producerId;
    volatile short producerEpoch;
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
    /** Counters written under the lock, read by {@link Producer}. */
    volatile long retriedBatches;
    volatile long producerIdResets;

    /** {@code producerId} -1 (and epoch -1) without idempotence. */
    ProducerSender(Cluster cluster, ProducerConfig config, RecordAccumulator accumulator, long producerId,
            short producerEpoch) {
        this.cluster = cluster;
        this.config = config;
        this.accumulator = accumulator;
        this.retries = new ProducerRetries(accumulator, config);
        this.producerId = producerId;
        this.producerEpoch = producerEpoch;
        this.lastMetadataRefreshNanos = System.nanoTime() - retries.backoffNanos() - 1;
    }

    /** InitProducerId (non-transactional), retried while the broker answers a retriable error, up to the cluster timeout. */
    static InitProducerIdResponse initProducerId(Cluster cluster) throws IOException {
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

    @Override
    public void run() {
        Map<Integer, List<ProducerBatch>> byNode = new HashMap<>();
        List<CompletableFuture<NodeConnection.Response>> timedOut = new ArrayList<>();
        RecordAccumulator acc = accumulator;
        while (true) {
            if (resetNeeded) {
                resetProducerId();
            }
            if (metadataStale) {
                refreshMetadata();
            }
            acc.lock.lock();
            try {
                while (true) {
                    if (acc.closed && acc.pendingBatches == 0) {
                        return;
                    }
                    long now = System.nanoTime();
                    long nextDeadline = acc.closeDue(now);
                    long retryDue = drainable(byNode, now);
                    long timeoutDue = timedOut(timedOut, now);
                    if (!byNode.isEmpty() || !timedOut.isEmpty() || (resetNeeded && requestsInFlight == 0)) {
                        break;
                    }
                    nextDeadline = earlier(earlier(nextDeadline, retryDue), timeoutDue);
                    if (metadataStale) {
                        long refreshAt = lastMetadataRefreshNanos + retries.backoffNanos();
                        if (refreshAt - now <= 0) {
                            break; // refresh metadata (unlocked) before retrying
                        }
                        nextDeadline = earlier(nextDeadline, refreshAt);
                    }
                    if (nextDeadline == Long.MAX_VALUE) {
                        acc.work.awaitUninterruptibly();
                    } else {
                        try {
                            acc.work.awaitNanos(nextDeadline - now);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            } finally {
                acc.lock.unlock();
            }
            for (CompletableFuture<NodeConnection.Response> f : timedOut) {
                f.completeExceptionally(new TimeoutException()); // complete() runs here, unlocked
            }
            timedOut.clear();
            for (Map.Entry<Integer, List<ProducerBatch>> e : byNode.entrySet()) {
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

    /**
     * On the sender thread, unlocked: re-reads the leaders of every known partition (at most once per
     * retry backoff). A failure (the broker is down) leaves the metadata stale, to be tried again.
     */
    private void refreshMetadata() {
        long now = System.nanoTime();
        if (now - lastMetadataRefreshNanos < retries.backoffNanos()) {
            return;
        }
        lastMetadataRefreshNanos = now;
        metadataStale = false;
        Cluster.Metadata m;
        try {
            m = cluster.metadata(new ArrayList<>(accumulator.topics.keySet()), false);
        } catch (IOException | RuntimeException e) {
            metadataStale = true;
            return;
        }
        accumulator.lock.lock();
        try {
            for (ProducerTopic t : accumulator.topics.values()) {
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
            accumulator.lock.unlock();
        }
    }

    /**
     * Under the lock: moves ready batches into per-node requests while the node has room in flight, at
     * most one batch per partition per request (the oldest), partitions taking turns. A retried batch
     * waits for its backoff and for every earlier request of its partition to come back, and then goes
     * out alone. Returns when the earliest backed-off batch is due (or Long.MAX_VALUE).
     */
    private long drainable(Map<Integer, List<ProducerBatch>> byNode, long now) {
        if (resetNeeded) {
            return Long.MAX_VALUE; // nothing goes out until a new producer id renumbers the batches
        }
        ArrayDeque<ProducerTopic.Partition> readyPartitions = accumulator.readyPartitions;
        Map<Integer, Integer> requestBytes = null;
        long retryDue = Long.MAX_VALUE;
        for (int i = 0, n = readyPartitions.size(); i < n; i++) {
            ProducerTopic.Partition p = readyPartitions.poll();
            ProducerBatch b = p.ready.peek();
            int node = p.leader;
            List<ProducerBatch> list = byNode.get(node);
            int bytes = list == null ? 0 : requestBytes.get(node);
            boolean take;
            if (p.retries > 0 && !p.inFlight.isEmpty()) {
                take = false; // the partition's in-flight requests come back (or fail) first; then its retries go in order
            } else if (b.retry && b.retryAtNanos - now > 0) {
                take = false;
                if (retryDue == Long.MAX_VALUE || b.retryAtNanos - retryDue < 0) {
                    retryDue = b.retryAtNanos;
                }
            } else {
                take = list == null ? accumulator.inFlight(node)[0] < config.maxInFlight()
                        : bytes + (b.built ? b.size : b.builder.sizeInBytes()) <= MAX_REQUEST_SIZE;
            }
            if (take) {
                p.ready.poll();
                if (p.retries > 0) {
                    p.retries--;
                }
                p.inFlight.add(b);
                b.retry = false;
                if (list == null) {
                    list = new ArrayList<>();
                    byNode.put(node, list);
                    accumulator.inFlight(node)[0]++;
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

    private void sendRequest(int node, List<ProducerBatch> batches) {
        Map<String, ProduceRequest.TopicProduceData> byTopic = new LinkedHashMap<>();
        for (ProducerBatch b : batches) {
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

    private void complete(int node, NodeConnection connection, List<ProducerBatch> batches, NodeConnection.Response response,
            Throwable error) {
        boolean timedOut = false; // or otherwise untrustworthy: close the connection
        // which batches went back to their queue: from then on the sender owns them (another attempt may even
        // complete before this method ends), so this method must not look at their fields again
        boolean[] retried = null;
        try {
            try {
                if (error != null) {
                    Throwable cause = error instanceof CompletionException && error.getCause() != null
                            ? error.getCause() : error;
                    if (cause instanceof TimeoutException) {
                        timedOut = true;
                        cause = new ClientException("produce request to broker " + node + " timed out after "
                                + requestTimeoutMs() + " ms", ErrorCode.REQUEST_TIMED_OUT, cause);
                    } else if (cause instanceof ProtocolException) {
                        // e.g. a response matched to the wrong request while the connection was failing: the
                        // connection can't be trusted; retry elsewhere (idempotence makes a re-send safe)
                        timedOut = true;
                        cause = new ClientException("bad response from broker " + node + ": " + cause.getMessage(),
                                ErrorCode.NETWORK_EXCEPTION, cause);
                    }
                    for (ProducerBatch b : batches) {
                        b.error = cause;
                    }
                } else if (response == null) {
                    for (ProducerBatch b : batches) {
                        b.error = null;
                        b.baseOffset = -1;
                    }
                } else {
                    ProduceResponse r = (ProduceResponse) response.body();
                    for (ProducerBatch b : batches) {
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
                for (ProducerBatch b : batches) {
                    b.error = e;
                }
            } finally {
                if (response != null) {
                    response.close();
                }
            }
            long now = System.nanoTime();
            accumulator.lock.lock();
            try {
                accumulator.inFlight(node)[0]--;
                requestsInFlight--;
                for (int i = 0; i < batches.size(); i++) {
                    ProducerBatch b = batches.get(i);
                    ProducerTopic.Partition p = b.partition;
                    p.inFlight.remove(b);
                    if (b.error != null && retries.retriable(b, p, now, resetNeeded)) {
                        if (retried == null) {
                            retried = new boolean[batches.size()];
                        }
                        retried[i] = true;
                        retriedBatches++; // under the lock
                        retries.retry(p, b, now);
                    } else if (b.error != null && b.sequence >= 0) {
                        resetNeeded = true; // its sequences leave a gap
                    }
                }
                if (retried != null) {
                    metadataStale = true;
                }
                accumulator.work.signal();
            } finally {
                accumulator.lock.unlock();
            }
            if (timedOut && connection != null) {
                connection.close(); // like Kafka: after a timeout (or a garbled response) the connection is not trusted
            }
            for (int i = 0; i < batches.size(); i++) {
                ProducerBatch b = batches.get(i);
                if (retried != null && retried[i]) {
                    continue;
                }
                if (b.error == null) {
                    b.succeed(b.baseOffset);
                } else {
                    b.fail(b.error);
                }
            }
        } finally {
            accumulator.lock.lock();
            try {
                for (int i = 0; i < batches.size(); i++) {
                    ProducerBatch b = batches.get(i);
                    if (retried != null && retried[i]) {
                        continue;
                    }
                    accumulator.recycle(b);
                }
                accumulator.space.signalAll();
                accumulator.work.signal();
            } finally {
                accumulator.lock.unlock();
            }
        }
    }

    /**
     * On the sender thread, unlocked, once every request has come back after a sequenced batch failed for
     * good: fetches a new producer id and renumbers the waiting (retried) batches of each partition from
     * sequence 0. While the broker can't be reached, waiting batches past their delivery timeout fail.
     */
    private void resetProducerId() {
        accumulator.lock.lock();
        try {
            if (!resetNeeded || requestsInFlight > 0) {
                return;
            }
        } finally {
            accumulator.lock.unlock();
        }
        InitProducerIdResponse response;
        try {
            response = initProducerId(cluster);
        } catch (IOException | RuntimeException e) {
            retries.expireWaiting(e);
            try {
                Thread.sleep(Math.max(1, config.retryBackoffMs()));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        accumulator.lock.lock();
        try {
            producerId = response.producerId();
            producerEpoch = response.producerEpoch();
            retries.renumber(producerId, producerEpoch);
            resetNeeded = false;
            producerIdResets++; // under the lock
            accumulator.work.signal();
        } finally {
            accumulator.lock.unlock();
        }
    }

    private static ProduceResponse.PartitionProduceResponse find(ProduceResponse r, ProducerBatch b) {
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
}
