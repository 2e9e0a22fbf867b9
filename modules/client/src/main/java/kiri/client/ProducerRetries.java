package kiri.client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kiri.protocol.ErrorCode;

/**
 * The {@link Producer}'s retry rules, like Kafka's producer: which failed batches are sent again
 * (retriable errors, within {@code deliveryTimeoutMs} of the batch's first record), how they go back
 * at the head of their partition's queue in sequence order after {@code retryBackoffMs}, how waiting
 * batches are renumbered under a new producer id, and how they expire while the broker is away.
 *
 * <p>Threading: {@link #retriable}, {@link #retry} and {@link #renumber} are called holding the
 * {@link RecordAccumulator}'s lock; {@link #expireWaiting} takes it itself and completes callbacks unlocked.
 */
final class ProducerRetries {
    private final RecordAccumulator accumulator;
    private final ProducerConfig config;

    ProducerRetries(RecordAccumulator accumulator, ProducerConfig config) {
        this.accumulator = accumulator;
        this.config = config;
    }

    long backoffNanos() {
        return TimeUnit.MILLISECONDS.toNanos(config.retryBackoffMs());
    }

    /**
     * Under the lock: whether a failed batch is sent again: its delivery timeout has not passed, and its
     * error is retriable (a connection or timeout failure, a partition error Kafka marks retriable, or
     * OUT_OF_ORDER_SEQUENCE_NUMBER behind an earlier batch of the partition that is being retried or is still in
     * flight (after a dropped connection a later batch can reach the broker first on the new one), or
     * while a gap waits for a new producer id: {@code resetNeeded}).
     */
    boolean retriable(ProducerBatch b, ProducerTopic.Partition p, long now, boolean resetNeeded) {
        if (now - b.createdNanos >= TimeUnit.MILLISECONDS.toNanos(config.deliveryTimeoutMs())) {
            return false;
        }
        Throwable e = b.error;
        if (e instanceof ClientException ce && ce.error() != null) {
            if (ce.error() == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER) {
                if (resetNeeded) {
                    return b.sequence >= 0; // behind a batch that failed for good: renumbered under the new producer id
                }
                if (b.sequence < 0) {
                    return false;
                }
                ProducerBatch first = p.retries > 0 ? p.ready.peek() : null;
                return first != null && first.sequence >= 0 && first.sequence < b.sequence || p.earlierInFlight(b.sequence);
            }
            return ce.error().retriable();
        }
        // client-side: I/O (connection refused or dropped), a timeout, a broker missing from metadata
        return e instanceof IOException || e instanceof UncheckedIOException
                || e instanceof TimeoutException || e instanceof ClientException;
    }

    /** Under the lock: queues a batch to be sent again once its backoff is over. */
    void retry(ProducerTopic.Partition p, ProducerBatch b, long now) {
        b.retry = true;
        b.attempts++;
        b.retryAtNanos = now + backoffNanos();
        requeue(p, b);
    }

    /** Under the lock: puts a batch to retry back at the head of its partition's queue, retries in sequence order. */
    private void requeue(ProducerTopic.Partition p, ProducerBatch b) {
        if (p.ready.isEmpty()) {
            accumulator.readyPartitions.add(p);
        }
        if (p.retries == 0) {
            p.ready.addFirst(b);
        } else {
            List<ProducerBatch> head = new ArrayList<>(p.retries + 1);
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

    /** Under the lock: renumbers the waiting batches of each partition from sequence 0 under a new producer id. */
    void renumber(long producerId, short producerEpoch) {
        for (ProducerTopic t : accumulator.topics.values()) {
            for (ProducerTopic.Partition p : t.partitions) {
                int sequence = 0;
                for (ProducerBatch b : p.ready) {
                    if (b.built && b.sequence >= 0) {
                        b.restamp(producerId, producerEpoch, sequence);
                        sequence += b.count;
                    }
                }
                p.nextSequence = sequence;
            }
        }
    }

    /** Unlocked: fails the waiting batches whose delivery timeout has passed (oldest first per partition). */
    void expireWaiting(Throwable error) {
        List<ProducerBatch> expired = new ArrayList<>();
        long now = System.nanoTime();
        long timeout = TimeUnit.MILLISECONDS.toNanos(config.deliveryTimeoutMs());
        accumulator.lock.lock();
        try {
            for (int i = 0, n = accumulator.readyPartitions.size(); i < n; i++) {
                ProducerTopic.Partition p = accumulator.readyPartitions.poll();
                while (!p.ready.isEmpty() && now - p.ready.peek().createdNanos >= timeout) {
                    ProducerBatch b = p.ready.poll();
                    if (p.retries > 0) {
                        p.retries--;
                    }
                    expired.add(b);
                }
                if (!p.ready.isEmpty()) {
                    accumulator.readyPartitions.add(p);
                }
            }
        } finally {
            accumulator.lock.unlock();
        }
        if (expired.isEmpty()) {
            return;
        }
        try {
            for (ProducerBatch b : expired) {
                b.fail(b.error != null ? b.error : error);
            }
        } finally {
            accumulator.lock.lock();
            try {
                for (ProducerBatch b : expired) {
                    accumulator.recycle(b);
                }
                accumulator.space.signalAll();
            } finally {
                accumulator.lock.unlock();
            }
        }
    }
}
