package kiri.client;

import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * A topic the {@link Producer} writes to: its partitions, each with its leader, next sequence, open
 * batch and queue of closed batches, and the sticky partition for records without a key.
 *
 * <p>Threading: every mutable field is guarded by the {@link RecordAccumulator}'s lock.
 */
final class ProducerTopic {
    final String name;
    final Partition[] partitions;
    /** The partition records without a key go to; moves on per batch (see {@link Partitioner}). */
    int sticky;

    ProducerTopic(String name, Partition[] partitions) {
        this.name = name;
        this.partitions = partitions;
    }

    /** One partition's producer-side state. */
    static final class Partition {
        final ProducerTopic topic;
        final int index;
        /** Updated by metadata refreshes, under the lock. */
        int leader;
        int nextSequence;
        ProducerBatch batch;
        /** Closed batches not yet sent, oldest first; the partition is in readyPartitions while this is non-empty. */
        final ArrayDeque<ProducerBatch> ready = new ArrayDeque<>();
        /** How many of the first batches in {@link #ready} are retries (in sequence order). */
        int retries;
        /** Batches of this partition in flight (at most max.in.flight.requests.per.connection), oldest first. */
        final ArrayList<ProducerBatch> inFlight = new ArrayList<>();

        /** Whether a batch with a sequence below {@code sequence} is in flight: an answer about it is still to come. */
        boolean earlierInFlight(int sequence) {
            for (ProducerBatch b : inFlight) {
                if (b.sequence >= 0 && b.sequence < sequence) {
                    return true;
                }
            }
            return false;
        }

        Partition(ProducerTopic topic, int index, int leader) {
            this.topic = topic;
            this.index = index;
            this.leader = leader;
        }
    }
}
