package kiri.coordinator;

import java.util.List;

/** A member of a consumer group (KIP-848), guarded by its group's monitor. */
final class ConsumerMember {
    /** Kafka's member states: reconciled, waiting for the member to revoke, waiting for others to release. */
    enum State { STABLE, UNREVOKED_PARTITIONS, UNRELEASED_PARTITIONS }

    final String memberId;
    String instanceId;
    String rackId;
    String clientId = "";
    String clientHost = "";
    int rebalanceTimeoutMs;
    List<String> subscribedTopicNames = List.of();
    /** The subscription's regular expression (java.util.regex, whole-name match), or null. */
    String subscribedTopicRegex;
    /** The server assignor this member asked for, or null. */
    String serverAssignor;

    int memberEpoch;
    int previousMemberEpoch = Epochs.NO_EPOCH;
    State state = State.STABLE;
    /** The partitions the member may own now (what it is told). */
    Assignment assigned = Assignment.EMPTY;
    /** Partitions it still owns and must give up before anyone else gets them. */
    Assignment pendingRevocation = Assignment.EMPTY;
    /** The assignment last sent in a heartbeat response (null: none yet). */
    Assignment lastSent;

    Timer.Task expiry;
    Timer.Task revocationTimeout;

    ConsumerMember(String memberId) {
        this.memberId = memberId;
    }

    void cancelTimers() {
        if (expiry != null) expiry.cancel();
        if (revocationTimeout != null) revocationTimeout.cancel();
        expiry = null;
        revocationTimeout = null;
    }
}
