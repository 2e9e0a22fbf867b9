package kiri.coordinator;

/**
 * Sentinel member epochs and generation ids, named as Kafka names them ({@code ConsumerGroupHeartbeatRequest},
 * {@code JoinGroupRequest}). Constants only; no state.
 */
final class Epochs {
    /** ConsumerGroupHeartbeat: a member joining (or rejoining after being fenced). */
    static final int JOIN_GROUP_MEMBER_EPOCH = 0;
    /** ConsumerGroupHeartbeat: a member leaving the group. */
    static final int LEAVE_GROUP_MEMBER_EPOCH = -1;
    /** ConsumerGroupHeartbeat: a static member leaving for a while, keeping its assignment. */
    static final int LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;
    /** A classic group's generation (or a consumer group's epoch) that a caller does not know. */
    static final int UNKNOWN_GENERATION_ID = -1;
    /** No epoch: no member holds the partition, no previous epoch, no group to describe. */
    static final int NO_EPOCH = -1;
    /** ConsumerGroupHeartbeat's RebalanceTimeoutMs when the member did not send one (unchanged). */
    static final int NO_REBALANCE_TIMEOUT = -1;

    /** Whether a commit's generation id (or member epoch) is unknown: {@link #UNKNOWN_GENERATION_ID}, or any negative as Kafka takes it. */
    static boolean unknownGeneration(int generation) {
        return generation < 0;
    }

    private Epochs() {
    }
}
