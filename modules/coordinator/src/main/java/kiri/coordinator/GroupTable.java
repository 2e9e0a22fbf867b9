package kiri.coordinator;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import kiri.storage.api.GroupState;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageException;

/**
 * The groups in memory: loads a group from storage on first use, runs work on it holding its
 * monitor, runs the effects that work queued (completing response futures) once the monitor is
 * released, and drops entries that hold nothing.
 *
 * <p>Threading: every method may be called from any thread and never blocks. The map is concurrent;
 * each {@link Group} is guarded by its own monitor, taken only through {@link #locked}.
 */
final class GroupTable {
    private static final System.Logger LOG = System.getLogger(GroupCoordinator.class.getName());

    /** Takes in a group's stored state (on load, or when a write lost to a newer one); called holding its monitor. */
    interface Restorer {
        void restore(Group g, GroupState stored);
    }

    private final Storage storage;
    private final Restorer restorer;
    private final ConcurrentHashMap<String, CompletableFuture<Group>> groups = new ConcurrentHashMap<>();

    GroupTable(Storage storage, Restorer restorer) {
        this.storage = storage;
        this.restorer = restorer;
    }

    /** The group, loaded from storage if it is not in memory. */
    CompletableFuture<Group> group(String groupId) {
        CompletableFuture<Group> existing = groups.get(groupId);
        if (existing != null) return existing;
        CompletableFuture<Group> mine = new CompletableFuture<>();
        existing = groups.putIfAbsent(groupId, mine);
        if (existing != null) return existing;
        storage.group(groupId).whenComplete((stored, failure) -> {
            if (failure != null) {
                groups.remove(groupId, mine);
                mine.completeExceptionally(failure);
                return;
            }
            Group g = new Group(groupId);
            if (stored.isPresent() && stored.get().version() != GroupState.NO_VERSION) {
                try {
                    locked(g, () -> restorer.restore(g, stored.get()));
                } catch (NewerGroupStateException e) { // never start afresh over it: that would overwrite a newer Kiri's state
                    System.getLogger(GroupCoordinator.class.getName()).log(System.Logger.Level.WARNING, e.getMessage());
                    groups.remove(groupId, mine);
                    mine.completeExceptionally(e);
                    return;
                }
            }
            mine.complete(g);
        });
        return mine;
    }

    /** The group's entry if it is in memory (perhaps still loading), else null. */
    CompletableFuture<Group> ifPresent(String groupId) {
        return groups.get(groupId);
    }

    /** Every entry in memory, some perhaps still loading or failed to. */
    Collection<CompletableFuture<Group>> entries() {
        return groups.values();
    }

    /** Drops a deleted group's entry (if it is still this group's). */
    void forget(Group g) {
        groups.computeIfPresent(g.groupId, (k, f) -> f.getNow(null) == g ? null : f);
    }

    void clear() {
        groups.clear();
    }

    /** Runs {@code body} holding the group's monitor; queued effects run after the outermost release. */
    void locked(Group g, Runnable body) {
        List<Runnable> effects = null;
        synchronized (g) {
            g.depth++;
            try {
                body.run();
            } finally {
                g.depth--;
                if (g.depth == 0) {
                    if (!g.effects.isEmpty()) {
                        effects = new ArrayList<>(g.effects);
                        g.effects.clear();
                    }
                    if (g.unused()) {
                        CompletableFuture<Group> f = groups.get(g.groupId);
                        if (f != null && f.isDone() && !f.isCompletedExceptionally() && f.getNow(null) == g) {
                            groups.remove(g.groupId, f);
                            g.evicted = true;
                        }
                    }
                }
            }
        }
        if (effects != null) {
            for (Runnable r : effects) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "group " + g.groupId + ": response callback failed", e);
                }
            }
        }
    }

    /**
     * Runs {@code body} on the group holding its monitor; if the entry was evicted meanwhile (it held
     * nothing), looks the group up again so that no change lands on an orphan.
     */
    <T> CompletableFuture<T> run(String groupId, Function<Group, T> body) {
        return group(groupId).thenCompose(g -> {
            List<T> out = new ArrayList<>(1);
            boolean[] evicted = {false};
            locked(g, () -> {
                if (g.evicted) evicted[0] = true;
                else out.add(body.apply(g));
            });
            return evicted[0] ? run(groupId, body) : CompletableFuture.completedFuture(out.getFirst());
        });
    }

    /** Completes {@code future} once the group's monitor is released. Call holding it. */
    static <T> void reply(Group g, CompletableFuture<T> future, T value) {
        g.effects.add(() -> future.complete(value));
    }

    /** The error code for a failed storage call. */
    static short code(Throwable failure) {
        return StorageException.errorCodeOf(failure);
    }
}
