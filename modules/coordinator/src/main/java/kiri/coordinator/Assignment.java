package kiri.coordinator;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.BiPredicate;

/** An immutable set of partitions named by topic id, as the consumer group protocol (KIP-848) carries them. */
final class Assignment {
    static final Assignment EMPTY = new Assignment(new TreeMap<>());

    private final TreeMap<UUID, TreeSet<Integer>> partitions;

    private Assignment(TreeMap<UUID, TreeSet<Integer>> partitions) {
        this.partitions = partitions;
    }

    static Assignment of(Map<UUID, ? extends java.util.Collection<Integer>> partitions) {
        TreeMap<UUID, TreeSet<Integer>> out = new TreeMap<>();
        partitions.forEach((id, ps) -> {
            if (!ps.isEmpty()) out.put(id, new TreeSet<>(ps));
        });
        return out.isEmpty() ? EMPTY : new Assignment(out);
    }

    /** A mutable builder's content as an assignment. */
    static Assignment copyOf(Map<UUID, TreeSet<Integer>> partitions) {
        return of(partitions);
    }

    Map<UUID, SortedSet<Integer>> asMap() {
        return Collections.unmodifiableMap(partitions);
    }

    boolean isEmpty() {
        return partitions.isEmpty();
    }

    int size() {
        int n = 0;
        for (TreeSet<Integer> s : partitions.values()) n += s.size();
        return n;
    }

    boolean contains(UUID topic, int partition) {
        TreeSet<Integer> s = partitions.get(topic);
        return s != null && s.contains(partition);
    }

    SortedSet<Integer> partitions(UUID topic) {
        TreeSet<Integer> s = partitions.get(topic);
        return s == null ? Collections.emptySortedSet() : Collections.unmodifiableSortedSet(s);
    }

    java.util.Set<UUID> topics() {
        return Collections.unmodifiableSet(partitions.keySet());
    }

    Assignment filter(BiPredicate<UUID, Integer> keep) {
        TreeMap<UUID, TreeSet<Integer>> out = new TreeMap<>();
        partitions.forEach((id, ps) -> {
            for (int p : ps) if (keep.test(id, p)) out.computeIfAbsent(id, k -> new TreeSet<>()).add(p);
        });
        return out.isEmpty() ? EMPTY : new Assignment(out);
    }

    Assignment minus(Assignment other) {
        return filter((id, p) -> !other.contains(id, p));
    }

    Assignment intersect(Assignment other) {
        return filter(other::contains);
    }

    boolean intersects(Assignment other) {
        for (var e : partitions.entrySet()) {
            for (int p : e.getValue()) if (other.contains(e.getKey(), p)) return true;
        }
        return false;
    }

    boolean subsetOf(Assignment other) {
        return minus(other).isEmpty();
    }

    Assignment plus(Assignment other) {
        TreeMap<UUID, TreeSet<Integer>> out = new TreeMap<>();
        partitions.forEach((id, ps) -> out.put(id, new TreeSet<>(ps)));
        other.partitions.forEach((id, ps) -> out.computeIfAbsent(id, k -> new TreeSet<>()).addAll(ps));
        return out.isEmpty() ? EMPTY : new Assignment(out);
    }

    /** As lists, for results handed to the router. */
    Map<UUID, List<Integer>> toLists() {
        Map<UUID, List<Integer>> out = new java.util.LinkedHashMap<>();
        partitions.forEach((id, ps) -> out.put(id, List.copyOf(ps)));
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Assignment a && partitions.equals(a.partitions);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(partitions);
    }

    @Override
    public String toString() {
        return partitions.toString();
    }
}
