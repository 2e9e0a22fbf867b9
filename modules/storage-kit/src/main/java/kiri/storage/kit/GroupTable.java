package kiri.storage.kit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.ErrorCode;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.Stages;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.VersionConflictException;

/**
 * Consumer groups and their committed offsets in memory, with Kafka's rules, shared by engines:
 * offsets-only groups, compare-and-set of group state on a version, DeleteGroups only for groups
 * without members, expiry of committed offsets (never while the group has members).
 *
 * <p>Where state lives is the engine's business: a durable engine calls {@link #snapshot} after each
 * change that names a group and persists it, and {@link #restore} on open. Methods throw
 * {@link StorageException} (callers wrap them with {@link Stages#of}).
 *
 * <p>Thread-safe: one monitor per group; a group removed from the table is marked dead so that a
 * writer that looked it up just before retries with a fresh entry. Group versions come from one
 * counter so that a deleted and re-created group never reuses a version (no ABA).
 */
public final class GroupTable {

    /** A group as stored: its state (null if only offsets) and committed offsets; both empty means deleted. */
    public record Snapshot(String groupId, GroupState state, Map<TopicPartition, CommittedOffset> offsets) {
        public Snapshot {
            offsets = Map.copyOf(offsets);
        }

        public boolean isDeleted() {
            return state == null && offsets.isEmpty();
        }
    }

    private static final class Group {
        GroupState state;
        final Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
        boolean dead;

        boolean isEmpty() {
            return state == null && offsets.isEmpty();
        }
    }

    private final ConcurrentHashMap<String, Group> groups = new ConcurrentHashMap<>();
    private final AtomicLong versions = new AtomicLong();

    /** OffsetCommit: replaces each partition's committed offset, stamped {@code nowMs}. */
    public void commit(String groupId, List<OffsetCommit> offsets, long nowMs) {
        while (true) {
            Group g = groups.computeIfAbsent(groupId, k -> new Group());
            synchronized (g) {
                if (g.dead) continue;
                for (OffsetCommit c : offsets) {
                    g.offsets.put(c.partition(), new CommittedOffset(c.offset(), c.leaderEpoch(), c.metadata(), nowMs, c.expireAtMs()));
                }
                return;
            }
        }
    }

    /** OffsetFetch: for {@code partitions}, or all if null; partitions without an offset are left out. */
    public Map<TopicPartition, CommittedOffset> fetch(String groupId, Collection<TopicPartition> partitions) {
        Group g = groups.get(groupId);
        Map<TopicPartition, CommittedOffset> out = new LinkedHashMap<>();
        if (g == null) return out;
        synchronized (g) {
            if (partitions == null) {
                out.putAll(g.offsets);
            } else {
                for (TopicPartition tp : partitions) {
                    CommittedOffset c = g.offsets.get(tp);
                    if (c != null) out.put(tp, c);
                }
            }
        }
        return out;
    }

    /** OffsetDelete. @throws StorageException GROUP_ID_NOT_FOUND */
    public void deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        Group g = groups.get(groupId);
        if (g == null) throw notFound(groupId);
        synchronized (g) {
            if (g.dead || g.isEmpty()) throw notFound(groupId);
            partitions.forEach(g.offsets::remove);
        }
    }

    /** ListGroups rows, by group id. */
    public List<GroupListing> list() {
        TreeMap<String, GroupListing> out = new TreeMap<>();
        groups.forEach((id, g) -> {
            synchronized (g) {
                if (!g.dead && !g.isEmpty()) out.put(id, (g.state != null ? g.state : GroupState.offsetsOnly(id)).listing());
            }
        });
        return new ArrayList<>(out.values());
    }

    /** The stored state, {@link GroupState#offsetsOnly} if only offsets, empty if neither. */
    public Optional<GroupState> group(String groupId) {
        Group g = groups.get(groupId);
        if (g == null) return Optional.empty();
        synchronized (g) {
            if (g.dead || g.isEmpty()) return Optional.empty();
            return Optional.of(g.state != null ? g.state : GroupState.offsetsOnly(groupId));
        }
    }

    /** Compare-and-set on the version. @throws VersionConflictException */
    public GroupState update(GroupState state) {
        while (true) {
            Group g = groups.computeIfAbsent(state.groupId(), k -> new Group());
            synchronized (g) {
                if (g.dead) continue;
                long stored = g.state == null ? GroupState.NO_VERSION : g.state.version();
                if (stored != state.version()) {
                    if (g.isEmpty()) remove(state.groupId(), g);
                    throw new VersionConflictException("group " + state.groupId(), state.version(), stored);
                }
                g.state = state.withVersion(versions.incrementAndGet());
                return g.state;
            }
        }
    }

    /** DeleteGroups. @throws StorageException GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP */
    public void delete(String groupId) {
        Group g = groups.get(groupId);
        if (g == null) throw notFound(groupId);
        synchronized (g) {
            if (g.dead || g.isEmpty()) throw notFound(groupId);
            if (g.state != null && !g.state.isDeletable()) {
                throw new StorageException(ErrorCode.NON_EMPTY_GROUP, "Group '" + groupId + "' is not empty (state "
                        + g.state.state() + ")");
            }
            remove(groupId, g);
        }
    }

    /** Drops every committed offset of a deleted topic; returns the groups that changed. */
    public Set<String> removeTopic(String topic) {
        Set<String> changed = new LinkedHashSet<>();
        groups.forEach((id, g) -> {
            synchronized (g) {
                if (g.offsets.keySet().removeIf(tp -> tp.topic().equals(topic))) changed.add(id);
            }
        });
        return changed;
    }

    /** Drops expired committed offsets of groups without members; returns the groups that changed. */
    public Set<String> expireOffsets(long nowMs) {
        Set<String> changed = new LinkedHashSet<>();
        groups.forEach((id, g) -> {
            synchronized (g) {
                if (g.state != null && !g.state.isDeletable()) return;
                if (g.offsets.values().removeIf(c -> c.expireAtMs() >= 0 && nowMs >= c.expireAtMs())) changed.add(id);
            }
        });
        return changed;
    }

    /** What to persist for {@code groupId} now ({@link Snapshot#isDeleted()} if it is gone). */
    public Snapshot snapshot(String groupId) {
        Group g = groups.get(groupId);
        if (g == null) return new Snapshot(groupId, null, Map.of());
        synchronized (g) {
            if (g.dead) return new Snapshot(groupId, null, Map.of());
            return new Snapshot(groupId, g.state, g.offsets);
        }
    }

    /** Loads a persisted group (on open, before serving); later versions continue above its version. */
    public void restore(Snapshot s) {
        if (s.isDeleted()) return;
        groups.put(s.groupId(), group(s));
    }

    /** A new entry holding {@code s}; later versions continue above its version. */
    private Group group(Snapshot s) {
        Group g = new Group();
        g.state = s.state();
        g.offsets.putAll(s.offsets());
        if (s.state() != null) versions.accumulateAndGet(s.state().version(), Math::max);
        return g;
    }

    /**
     * Puts a group back as {@code before} (a {@link #snapshot} taken before a change whose persisting failed), so
     * that readers never see a change the engine could not make durable. Versions are not reused.
     */
    public void rollback(Snapshot before) {
        // replaced in one step: between a remove and a put, readers would see no group and no offsets at all
        Group g = before.isDeleted() ? groups.remove(before.groupId()) : groups.put(before.groupId(), group(before));
        if (g != null) {
            synchronized (g) {
                g.dead = true; // a writer that looked it up just before retries with the restored entry
            }
        }
    }

    /** Ids of every group with state or offsets. */
    public List<String> groupIds() {
        List<String> out = new ArrayList<>();
        groups.forEach((id, g) -> {
            synchronized (g) {
                if (!g.dead && !g.isEmpty()) out.add(id);
            }
        });
        return out;
    }

    private void remove(String groupId, Group g) {
        g.dead = true;
        groups.remove(groupId, g);
    }

    private static StorageException notFound(String groupId) {
        return new StorageException(ErrorCode.GROUP_ID_NOT_FOUND, "Group '" + groupId + "' does not exist");
    }
}
