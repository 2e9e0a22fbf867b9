package kiri.client;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import kiri.protocol.record.Header;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordBatchBuilder;

/**
 * The {@link Producer}'s batches: appends each record straight into its partition's open batch (a
 * pooled off-heap buffer, reused), closes a batch when it is full or its linger is over and queues it
 * for the sender, blocks {@link #append} while more than {@code bufferMemory} bytes are pending, and
 * recycles batches once their records completed.
 *
 * <p>Threading: one {@link ReentrantLock} guards this state, every topic's and partition's, and the
 * queued batches; the sender takes it too. {@link #work} wakes the sender (a batch opened, closed or
 * came back); {@link #space} wakes appenders and {@link #flush} (batches were freed).
 */
final class RecordAccumulator {
    private final Cluster cluster;
    private final ProducerConfig config;
    final ReentrantLock lock = new ReentrantLock();
    final Condition work = lock.newCondition();
    final Condition space = lock.newCondition();
    /** Read without the lock (one lookup per record); written under it. */
    final Map<String, ProducerTopic> topics = new ConcurrentHashMap<>();
    private final List<ProducerTopic.Partition> open = new ArrayList<>();
    /** Partitions with closed batches waiting to be sent, each once, in the order they became ready. */
    final ArrayDeque<ProducerTopic.Partition> readyPartitions = new ArrayDeque<>();
    private final ArrayDeque<ProducerBatch> freeBatches = new ArrayDeque<>();
    /** Produce requests in flight per broker (kept by the sender; read here to decide whether to wake it). */
    private final Map<Integer, int[]> inFlight = new HashMap<>();
    private long pendingBytes;
    /** Batches open, queued or in flight; 0 once every record appended so far has completed. */
    int pendingBatches;
    private boolean flushing;
    volatile boolean closed;

    RecordAccumulator(Cluster cluster, ProducerConfig config) {
        this.cluster = cluster;
        this.config = config;
    }

    /** Appends one record (see {@link Producer#send(String, int, byte[], byte[], List, long, Producer.Callback)}). */
    void append(String topic, int partition, byte[] key, byte[] value, List<Header> headers, long token,
            Producer.Callback callback) throws IOException {
        ProducerTopic t = topic(topic);
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
            ProducerTopic.Partition p = t.partitions[Partitioner.partition(t, partition, key)];
            ProducerBatch b = p.batch;
            if (b == null || !b.builder.tryAppend(now, key, value, headers)) {
                if (b != null) {
                    closeBatch(p);
                }
                int needed = RecordBatchBuilder.maxRecordSize(key == null ? -1 : key.length,
                        value == null ? -1 : value.length, headers) + RecordBatch.HEADER_SIZE;
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

    private ProducerTopic topic(String topic) throws IOException {
        ProducerTopic known = topics.get(topic);
        if (known != null) {
            return known;
        }
        Cluster.TopicInfo info = cluster.topic(topic, true);
        lock.lock();
        try {
            ProducerTopic t = topics.get(topic);
            if (t == null) {
                ProducerTopic.Partition[] parts = new ProducerTopic.Partition[info.partitions().size()];
                t = new ProducerTopic(topic, parts);
                for (int i = 0; i < parts.length; i++) {
                    Cluster.PartitionInfo p = info.partitions().get(i);
                    parts[i] = new ProducerTopic.Partition(t, p.partition(), p.leader());
                }
                t.sticky = Partitioner.initialSticky(parts.length);
                topics.put(topic, t);
            }
            return t;
        } finally {
            lock.unlock();
        }
    }

    /** Under the lock: takes a batch from the free list (or makes one). */
    private ProducerBatch newBatch(ProducerTopic.Partition p, int capacity) {
        ProducerBatch b = freeBatches.poll();
        if (b == null) {
            b = new ProducerBatch();
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
    private void closeBatch(ProducerTopic.Partition p) {
        ProducerBatch b = p.batch;
        p.batch = null;
        open.remove(p);
        if (p.ready.isEmpty()) {
            readyPartitions.add(p);
        }
        p.ready.add(b);
        Partitioner.batchClosed(p.topic);
        if (inFlight(p.leader)[0] < config.maxInFlight()) {
            work.signal(); // otherwise the response that frees a slot wakes the sender
        }
    }

    /**
     * Under the lock: closes the open batches whose linger is over (all of them while flushing or
     * closing) and returns when the next one is due (or Long.MAX_VALUE).
     */
    long closeDue(long now) {
        long lingerNanos = TimeUnit.MILLISECONDS.toNanos(config.lingerMs());
        long nextDeadline = Long.MAX_VALUE;
        for (int i = open.size() - 1; i >= 0; i--) {
            ProducerTopic.Partition p = open.get(i);
            long due = p.batch.createdNanos + lingerNanos;
            if (flushing || closed || due - now <= 0) {
                closeBatch(p);
            } else {
                nextDeadline = Math.min(nextDeadline, due);
            }
        }
        return nextDeadline;
    }

    /** Under the lock: the broker's count of produce requests in flight (a one-element array, to update in place). */
    int[] inFlight(int node) {
        return inFlight.computeIfAbsent(node, k -> new int[1]);
    }

    /** Sends everything pending now and waits until every record sent before this call has completed. */
    void flush() {
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

    /** Under the lock: a batch whose records all completed goes back to the free list, its buffer space freed. */
    void recycle(ProducerBatch b) {
        pendingBytes -= b.capacity;
        pendingBatches--;
        b.partition = null;
        b.error = null;
        b.retry = false;
        Arrays.fill(b.callbacks, 0, b.count, null);
        freeBatches.push(b);
    }

    /** Refuses further records and wakes everyone: the sender stops once nothing is pending. */
    void close() {
        lock.lock();
        try {
            closed = true;
            work.signal();
            space.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Once the sender has stopped: returns the free batches' buffers to the pool. */
    void release() {
        lock.lock();
        try {
            for (ProducerBatch b : freeBatches) {
                b.buffer.close();
            }
            freeBatches.clear();
        } finally {
            lock.unlock();
        }
    }
}
