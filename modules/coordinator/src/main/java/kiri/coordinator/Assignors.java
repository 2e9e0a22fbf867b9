package kiri.coordinator;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The server-side assignors a consumer group may name ({@code group.remote.assignor}): "uniform"
 * (balanced and sticky: partitions stay where they are unless that leaves members more than one
 * apart) and "range" (per topic, contiguous ranges over the members subscribed to it, by member id).
 */
final class Assignors {
    static final String UNIFORM = "uniform";
    static final String RANGE = "range";
    static final List<String> NAMES = List.of(UNIFORM, RANGE);

    private Assignors() {
    }

    /** A topic a subscription resolved to. */
    record TopicMeta(UUID id, int partitions) {
    }

    /**
     * @param subscriptions member id to the topics it subscribes to (only existing topics), in member order
     * @param topics        topic name to id and partition count
     * @param previous      the previous target assignment, for stickiness
     */
    static Map<String, Assignment> assign(String assignor, Map<String, Set<String>> subscriptions,
                                          Map<String, TopicMeta> topics, Map<String, Assignment> previous) {
        return RANGE.equals(assignor) ? range(subscriptions, topics) : uniform(subscriptions, topics, previous);
    }

    static Map<String, Assignment> range(Map<String, Set<String>> subscriptions, Map<String, TopicMeta> topics) {
        Map<String, Map<UUID, TreeSet<Integer>>> out = new LinkedHashMap<>();
        for (String m : subscriptions.keySet()) out.put(m, new TreeMap<>());
        for (var t : new TreeMap<>(topics).entrySet()) {
            List<String> members = new ArrayList<>();
            for (var s : subscriptions.entrySet()) if (s.getValue().contains(t.getKey())) members.add(s.getKey());
            if (members.isEmpty()) continue;
            members.sort(Comparator.naturalOrder());
            int n = t.getValue().partitions();
            int per = n / members.size();
            int extra = n % members.size();
            int next = 0;
            for (int i = 0; i < members.size(); i++) {
                int count = per + (i < extra ? 1 : 0);
                for (int k = 0; k < count; k++) {
                    out.get(members.get(i)).computeIfAbsent(t.getValue().id(), x -> new TreeSet<>()).add(next++);
                }
            }
        }
        Map<String, Assignment> result = new LinkedHashMap<>();
        out.forEach((m, a) -> result.put(m, Assignment.copyOf(a)));
        return result;
    }

    private record Tp(UUID topic, int partition) {
    }

    static Map<String, Assignment> uniform(Map<String, Set<String>> subscriptions, Map<String, TopicMeta> topics,
                                           Map<String, Assignment> previous) {
        // which members may take each partition
        Map<UUID, List<String>> eligible = new HashMap<>();
        List<Tp> all = new ArrayList<>();
        for (var t : new TreeMap<>(topics).entrySet()) {
            List<String> members = new ArrayList<>();
            for (var s : subscriptions.entrySet()) if (s.getValue().contains(t.getKey())) members.add(s.getKey());
            if (members.isEmpty()) continue;
            members.sort(Comparator.naturalOrder());
            eligible.put(t.getValue().id(), members);
            for (int p = 0; p < t.getValue().partitions(); p++) all.add(new Tp(t.getValue().id(), p));
        }
        Map<String, TreeSet<Tp>> owned = new TreeMap<>();
        for (String m : subscriptions.keySet()) {
            owned.put(m, new TreeSet<>(Comparator.comparing(Tp::topic).thenComparingInt(Tp::partition)));
        }
        Map<Tp, String> owner = new HashMap<>();
        // sticky: a partition stays with its previous owner if that member may still take it
        for (Tp tp : all) {
            for (var e : previous.entrySet()) {
                if (e.getValue().contains(tp.topic(), tp.partition()) && eligible.get(tp.topic()).contains(e.getKey())) {
                    owned.get(e.getKey()).add(tp);
                    owner.put(tp, e.getKey());
                    break;
                }
            }
        }
        // the rest to the least loaded eligible member
        for (Tp tp : all) {
            if (owner.containsKey(tp)) continue;
            String best = leastLoaded(eligible.get(tp.topic()), owned);
            owned.get(best).add(tp);
            owner.put(tp, best);
        }
        // balance: move partitions from a member to an eligible one with at least two fewer
        boolean moved = true;
        for (int rounds = 0; moved && rounds < all.size() * 4 + 4; rounds++) {
            moved = false;
            List<String> byLoad = new ArrayList<>(owned.keySet());
            byLoad.sort(Comparator.comparingInt((String m) -> -owned.get(m).size()).thenComparing(m -> m));
            outer:
            for (String from : byLoad) {
                for (Tp tp : owned.get(from).descendingSet()) {
                    String to = leastLoaded(eligible.get(tp.topic()), owned);
                    if (owned.get(to).size() + 1 < owned.get(from).size()) {
                        owned.get(from).remove(tp);
                        owned.get(to).add(tp);
                        moved = true;
                        break outer;
                    }
                }
            }
        }
        Map<String, Assignment> result = new LinkedHashMap<>();
        for (String m : subscriptions.keySet()) {
            Map<UUID, TreeSet<Integer>> a = new TreeMap<>();
            for (Tp tp : owned.get(m)) a.computeIfAbsent(tp.topic(), x -> new TreeSet<>()).add(tp.partition());
            result.put(m, Assignment.copyOf(a));
        }
        return result;
    }

    private static String leastLoaded(List<String> candidates, Map<String, TreeSet<Tp>> owned) {
        String best = null;
        for (String m : candidates) {
            if (best == null || owned.get(m).size() < owned.get(best).size()) best = m;
        }
        return best;
    }
}
