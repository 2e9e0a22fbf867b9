package kiri.storage.api;

import java.util.List;

/** Metadata of one partition: who leads it, at which leader epoch, and its replica set. */
public record PartitionInfo(int partition, int leaderId, int leaderEpoch, List<Integer> replicas, List<Integer> isr) {
    public PartitionInfo {
        replicas = List.copyOf(replicas);
        isr = List.copyOf(isr);
    }

    /** A partition led by {@code nodeId} alone: what every single-node engine reports. */
    public static PartitionInfo singleNode(int partition, int nodeId) {
        List<Integer> self = List.of(nodeId);
        return new PartitionInfo(partition, nodeId, 0, self, self);
    }
}
