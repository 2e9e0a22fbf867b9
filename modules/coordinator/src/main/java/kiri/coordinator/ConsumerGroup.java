package kiri.coordinator;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;
import kiri.coordinator.Assignors.TopicMeta;

/**
 * The state of one consumer group (KIP-848, {@code group.protocol=consumer}), guarded by its
 * {@link Group}'s monitor: the group epoch (bumped whenever membership, a subscription or the
 * subscribed topics' partitions change), the target assignment computed by the server-side assignor
 * for that epoch, and each member's reconciliation towards its target.
 *
 * <p>The reconciliation rule (Kafka's CurrentAssignmentBuilder): a member first keeps only the part of
 * its assignment that is in its target and must revoke the rest, keeping its epoch while it does
 * (UNREVOKED_PARTITIONS); once it no longer reports those partitions as owned it moves to the target
 * epoch and gets its new partitions, but only those no other member still holds (assigned or pending
 * revocation); the others follow on later heartbeats (UNRELEASED_PARTITIONS).
 */
final class ConsumerGroup {
    int groupEpoch;
    int assignmentEpoch;
    String assignor = Assignors.UNIFORM;
    final LinkedHashMap<String, ConsumerMember> members = new LinkedHashMap<>();
    Map<String, Assignment> target = new HashMap<>();
    /** Every topic as last seen (name to id and partition count). */
    Map<String, TopicMeta> topics = Map.of();
    /** The subscribed topics the current target was computed for. */
    Map<String, TopicMeta> subscriptionMetadata = Map.of();

    /** The existing topics a member subscribes to (by name or regular expression). */
    Set<String> subscribedTopics(ConsumerMember m) {
        Set<String> out = new LinkedHashSet<>();
        for (String t : m.subscribedTopicNames) if (topics.containsKey(t)) out.add(t);
        if (m.subscribedTopicRegex != null) {
            Pattern p = Pattern.compile(m.subscribedTopicRegex);
            for (String t : topics.keySet()) if (p.matcher(t).matches()) out.add(t);
        }
        return out;
    }

    /** Whether the subscribed topics (or their partition counts) changed; takes them in. */
    boolean refreshSubscriptionMetadata() {
        Map<String, TopicMeta> now = new TreeMap<>();
        for (ConsumerMember m : members.values()) {
            for (String t : subscribedTopics(m)) now.put(t, topics.get(t));
        }
        if (now.equals(subscriptionMetadata)) return false;
        subscriptionMetadata = now;
        return true;
    }

    /** Picks the assignor most members ask for (uniform when none does); whether it changed. */
    boolean selectAssignor() {
        Map<String, Integer> votes = new HashMap<>();
        for (ConsumerMember m : members.values()) if (m.serverAssignor != null) votes.merge(m.serverAssignor, 1, Integer::sum);
        String best = Assignors.UNIFORM;
        int most = 0;
        for (String name : Assignors.NAMES) {
            int v = votes.getOrDefault(name, 0);
            if (v > most) {
                best = name;
                most = v;
            }
        }
        if (best.equals(assignor)) return false;
        assignor = best;
        return true;
    }

    /**
     * After a member changed: bumps the group epoch once if membership or a subscription changed
     * ({@code changed}), or the assignor or the subscribed topics did, then computes the new target.
     */
    void update(boolean changed) {
        boolean assignorChanged = selectAssignor();
        boolean topicsChanged = refreshSubscriptionMetadata();
        if (changed || assignorChanged || topicsChanged) groupEpoch++;
        maybeComputeTarget();
    }

    /** Computes the target assignment for the group epoch if it is behind. */
    void maybeComputeTarget() {
        if (assignmentEpoch >= groupEpoch) return;
        Map<String, Set<String>> subscriptions = new LinkedHashMap<>();
        for (ConsumerMember m : members.values()) subscriptions.put(m.memberId, subscribedTopics(m));
        target = new HashMap<>(Assignors.assign(assignor, subscriptions, subscriptionMetadata, target));
        assignmentEpoch = groupEpoch;
    }

    /** The member with this group.instance.id, or null. */
    ConsumerMember staticMember(String instanceId) {
        for (ConsumerMember m : members.values()) if (instanceId.equals(m.instanceId)) return m;
        return null;
    }

    /**
     * A static member back with a new member id: the new member takes the old one's place, subscription,
     * assignment and target (partitions it was revoking are given up); the group epoch stays.
     */
    ConsumerMember replaceStaticMember(ConsumerMember old, String newId) {
        old.cancelTimers();
        ConsumerMember m = new ConsumerMember(newId);
        m.instanceId = old.instanceId;
        m.rackId = old.rackId;
        m.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
        m.subscribedTopicNames = old.subscribedTopicNames;
        m.subscribedTopicRegex = old.subscribedTopicRegex;
        m.serverAssignor = old.serverAssignor;
        m.assigned = old.assigned;
        LinkedHashMap<String, ConsumerMember> copy = new LinkedHashMap<>(members);
        members.clear();
        copy.forEach((id, member) -> {
            if (member == old) members.put(newId, m);
            else members.put(id, member);
        });
        Assignment t = target.remove(old.memberId);
        if (t != null) target.put(newId, t);
        return m;
    }

    /** Drops a member: its partitions are free at once; the others are reassigned. */
    void remove(ConsumerMember m) {
        m.cancelTimers();
        members.remove(m.memberId);
        target.remove(m.memberId);
        update(true);
    }

    /** The epoch of the member holding a partition (assigned or pending revocation) other than {@code except}, or {@link Epochs#NO_EPOCH}. */
    int partitionEpoch(UUID topic, int partition, ConsumerMember except) {
        for (ConsumerMember o : members.values()) {
            if (o == except) continue;
            if (o.assigned.contains(topic, partition) || o.pendingRevocation.contains(topic, partition)) return o.memberEpoch;
        }
        return Epochs.NO_EPOCH;
    }

    /**
     * Moves a member towards its target assignment.
     *
     * @param owned the partitions the member reported owning in this heartbeat, or null if it did not say
     */
    void reconcile(ConsumerMember m, Assignment owned) {
        switch (m.state) {
            case STABLE -> {
                if (m.memberEpoch != assignmentEpoch) next(m, owned);
            }
            case UNREVOKED_PARTITIONS -> {
                if (!ownsAny(owned, m.pendingRevocation)) next(m, owned);
            }
            case UNRELEASED_PARTITIONS -> next(m, owned);
        }
    }

    /** Whether the member may still own some of {@code revoked} (unknown counts as yes). */
    private static boolean ownsAny(Assignment owned, Assignment revoked) {
        return owned == null || owned.intersects(revoked);
    }

    private void next(ConsumerMember m, Assignment owned) {
        Assignment target = this.target.getOrDefault(m.memberId, Assignment.EMPTY);
        Assignment keep = m.assigned.intersect(target);
        Assignment revoke = m.assigned.minus(keep);
        Assignment wanted = target.minus(keep);
        Assignment free = wanted.filter((t, p) -> partitionEpoch(t, p, m) == Epochs.NO_EPOCH);
        boolean unreleased = free.size() < wanted.size();
        if (!revoke.isEmpty() && ownsAny(owned, revoke)) {
            // revocation first: the member keeps its epoch until it no longer owns these
            m.state = ConsumerMember.State.UNREVOKED_PARTITIONS;
            m.assigned = keep;
            m.pendingRevocation = revoke;
            return;
        }
        if (m.memberEpoch != assignmentEpoch) {
            m.previousMemberEpoch = m.memberEpoch;
            m.memberEpoch = assignmentEpoch;
        }
        m.assigned = keep.plus(free);
        m.pendingRevocation = Assignment.EMPTY;
        m.state = unreleased ? ConsumerMember.State.UNRELEASED_PARTITIONS : ConsumerMember.State.STABLE;
    }

    /** Kafka's consumer group states: Empty, Assigning, Reconciling, Stable. */
    String state() {
        if (members.isEmpty()) return "Empty";
        if (groupEpoch > assignmentEpoch) return "Assigning";
        for (ConsumerMember m : members.values()) {
            if (m.memberEpoch != assignmentEpoch || m.state != ConsumerMember.State.STABLE) return "Reconciling";
        }
        return "Stable";
    }

    /** Topic ids to names, from the last topics seen. */
    Map<UUID, String> topicNames() {
        Map<UUID, String> out = new HashMap<>();
        topics.forEach((name, meta) -> out.put(meta.id(), name));
        return out;
    }
}
