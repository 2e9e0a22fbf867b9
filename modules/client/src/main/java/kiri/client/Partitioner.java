package kiri.client;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks a record's partition as Kafka's default partitioner does: the one asked for, murmur2 of the
 * key, or, for records without a key, a sticky partition that moves on each time a batch closes.
 *
 * <p>Threading: stateless; {@link #partition} and {@link #batchClosed} are called under the
 * {@link RecordAccumulator}'s lock, which guards the topic's sticky partition.
 */
final class Partitioner {
    private Partitioner() {
    }

    /** The partition index for a record; {@code partition} -1 picks one. */
    static int partition(ProducerTopic t, int partition, byte[] key) {
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

    /** Where a new topic's records without a key start. */
    static int initialSticky(int partitions) {
        return ThreadLocalRandom.current().nextInt(partitions);
    }

    /** A batch of the topic closed: records without a key move on to the next partition, like Kafka's sticky partitioner. */
    static void batchClosed(ProducerTopic t) {
        if (t.partitions.length > 1) {
            t.sticky = (t.sticky + 1) % t.partitions.length;
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
}
