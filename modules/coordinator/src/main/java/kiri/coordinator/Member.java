package kiri.coordinator;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A member of a classic group, guarded by its group's monitor. */
final class Member {
    static final byte[] EMPTY = new byte[0];

    final String memberId;
    final String groupInstanceId;
    String clientId;
    String clientHost;
    int rebalanceTimeoutMs;
    int sessionTimeoutMs;
    List<Protocol> protocols;
    byte[] assignment = EMPTY;

    /** The JoinGroup response waiting for the rebalance to complete, or null. */
    CompletableFuture<JoinResult> awaitingJoin;
    /** The SyncGroup response waiting for the leader's assignment, or null. */
    CompletableFuture<SyncResult> awaitingSync;
    /** The pending session expiry (rescheduled by every heartbeat), or null. */
    Timer.Task expiry;

    Member(String memberId, String groupInstanceId, String clientId, String clientHost, int rebalanceTimeoutMs,
           int sessionTimeoutMs, List<Protocol> protocols) {
        this.memberId = memberId;
        this.groupInstanceId = groupInstanceId;
        this.clientId = clientId;
        this.clientHost = clientHost;
        this.rebalanceTimeoutMs = rebalanceTimeoutMs;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.protocols = protocols;
    }

    static Member of(String memberId, JoinRequest r) {
        return new Member(memberId, r.groupInstanceId(), r.clientId(), r.clientHost(), r.rebalanceTimeoutMs(),
                r.sessionTimeoutMs(), r.protocols());
    }

    void update(JoinRequest r) {
        clientId = r.clientId();
        clientHost = r.clientHost();
        rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        sessionTimeoutMs = r.sessionTimeoutMs();
        protocols = r.protocols();
    }

    /** This member's metadata for {@code protocol} (empty if it does not support it). */
    byte[] metadata(String protocol) {
        for (Protocol p : protocols) {
            if (p.name().equals(protocol)) return p.metadata();
        }
        return EMPTY;
    }

    boolean supports(String protocol) {
        for (Protocol p : protocols) {
            if (p.name().equals(protocol)) return true;
        }
        return false;
    }

    boolean sameProtocols(List<Protocol> other) {
        if (other.size() != protocols.size()) return false;
        for (int i = 0; i < other.size(); i++) {
            if (!other.get(i).name().equals(protocols.get(i).name())
                    || !Arrays.equals(other.get(i).metadata(), protocols.get(i).metadata())) {
                return false;
            }
        }
        return true;
    }

    void cancelExpiry() {
        if (expiry != null) {
            expiry.cancel();
            expiry = null;
        }
    }
}
