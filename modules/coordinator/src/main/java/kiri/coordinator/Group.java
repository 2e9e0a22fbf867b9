package kiri.coordinator;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import kiri.storage.api.GroupState;

/**
 * One classic group in memory. Every field is guarded by the group's monitor; work that must not run
 * under it (completing response futures) is queued in {@link #effects} and run once the outermost
 * holder releases it.
 */
final class Group {
    /** Stored group types (and the consumer protocol type), as ListGroups names them. */
    static final String CONSUMER = "consumer";
    static final String CLASSIC = "classic";

    final String groupId;
    GroupPhase state = GroupPhase.EMPTY;
    String protocolType;
    String protocolName;
    int generation;
    String leaderId;
    final LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    /** group.instance.id to member id. */
    final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used, with their expiry. */
    final Map<String, Timer.Task> pendingMembers = new HashMap<>();
    /** Identifies the current rebalance timer, so that a stale one does nothing. */
    Object rebalanceToken;
    Timer.Task rebalanceTimer;
    /** The first rebalance of an empty group waits group.initial.rebalance.delay.ms for more members. */
    boolean initialDelayActive;
    boolean dead;
    /** Set while this group id is a consumer group (KIP-848); null for a classic group. */
    ConsumerGroup consumer;
    /** Dropped from the coordinator's map (it held nothing); callers holding it look the group up again. */
    boolean evicted;

    // persistence (write-behind, one write in flight, compare-and-set on version)
    long version = GroupState.NO_VERSION;
    boolean dirty;
    boolean writing;
    final List<CompletableFuture<Void>> flushWaiters = new ArrayList<>();

    // lock bookkeeping
    int depth;
    final List<Runnable> effects = new ArrayList<>();

    Group(String groupId) {
        this.groupId = groupId;
    }

    boolean hasMembers() {
        return !members.isEmpty() || (consumer != null && !consumer.members.isEmpty());
    }

    /** Protocols every member supports, in the first member's order of preference. */
    Set<String> candidateProtocols() {
        Set<String> out = new LinkedHashSet<>();
        boolean first = true;
        for (Member m : members.values()) {
            if (first) {
                for (Protocol p : m.protocols) out.add(p.name());
                first = false;
            } else {
                out.removeIf(name -> !m.supports(name));
            }
        }
        return out;
    }

    /** Whether a member with these protocols may join (same protocol type, at least one protocol in common). */
    boolean supports(String type, List<Protocol> protocols) {
        if (type.isEmpty() || protocols.isEmpty()) return false;
        if (members.isEmpty()) return true;
        if (!type.equals(protocolType)) return false;
        Set<String> candidates = candidateProtocols();
        for (Protocol p : protocols) {
            if (candidates.contains(p.name())) return true;
        }
        return false;
    }

    /** Each member votes for its most preferred candidate; most votes wins, ties by the candidates' order. */
    String selectProtocol() {
        Set<String> candidates = candidateProtocols();
        Map<String, Integer> votes = new LinkedHashMap<>();
        for (String c : candidates) votes.put(c, 0);
        for (Member m : members.values()) {
            for (Protocol p : m.protocols) {
                if (candidates.contains(p.name())) {
                    votes.merge(p.name(), 1, Integer::sum);
                    break;
                }
            }
        }
        String best = null;
        int bestVotes = -1;
        for (var e : votes.entrySet()) {
            if (e.getValue() > bestVotes) {
                best = e.getKey();
                bestVotes = e.getValue();
            }
        }
        return best;
    }

    int maxRebalanceTimeoutMs() {
        int max = 0;
        for (Member m : members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
        return max;
    }

    List<JoinResult.JoinedMember> joinedMembers() {
        List<JoinResult.JoinedMember> out = new ArrayList<>(members.size());
        for (Member m : members.values()) {
            out.add(new JoinResult.JoinedMember(m.memberId, m.groupInstanceId, m.metadata(protocolName)));
        }
        return out;
    }

    /** Whether this entry holds nothing worth keeping in memory (never stored, no members, nothing scheduled). */
    boolean unused() {
        return consumer == null && members.isEmpty() && pendingMembers.isEmpty() && state == GroupPhase.EMPTY
                && version == GroupState.NO_VERSION && !writing && !dirty;
    }
}
