package kiri.coordinator;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import kiri.storage.api.GroupState;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageException;
import kiri.storage.api.VersionConflictException;

/**
 * Writes each group's state behind its changes with {@link Storage#updateGroup}: one write in flight
 * per group, compare-and-set on the stored version. When a write loses to a newer classic generation
 * stored elsewhere (another broker over the same storage), that one is adopted through the
 * {@link GroupTable.Restorer} and the members here rejoin.
 *
 * <p>Threading: {@link #markDirty} and {@link #flushed(Group)} are called holding the group's monitor;
 * writes start once the change that marked the group is complete (as a queued effect) and their
 * completions take the monitor again, on the storage's thread.
 */
record GroupWriteBehind(GroupTable table, Storage storage, GroupTable.Restorer restorer) {
    private static final System.Logger LOG = System.getLogger(GroupCoordinator.class.getName());

    /** Completes once every change so far is stored (or the write failed). Call holding the group's monitor. */
    static CompletableFuture<Void> flushed(Group g) {
        if (!g.writing && !g.dirty) return CompletableFuture.completedFuture(null);
        CompletableFuture<Void> f = new CompletableFuture<>();
        g.flushWaiters.add(f);
        return f;
    }

    /** Completes once the group's state is stored (at once if the group is not in memory). */
    CompletableFuture<Void> flushed(String groupId) {
        CompletableFuture<Group> f = table.ifPresent(groupId);
        if (f == null) return CompletableFuture.completedFuture(null);
        return f.thenCompose(g -> {
            synchronized (g) {
                return flushed(g);
            }
        });
    }

    /** The group changed: store it once the current change is complete. Call holding its monitor. */
    void markDirty(Group g) {
        if (g.dead) return;
        g.dirty = true;
        if (!g.writing) {
            g.writing = true;
            g.effects.add(() -> table.locked(g, () -> writeNext(g))); // write once the current change is complete
        }
    }

    private void writeNext(Group g) {
        if (g.dead || !g.dirty) {
            g.writing = false;
            g.dirty = false;
            for (CompletableFuture<Void> f : g.flushWaiters) g.effects.add(() -> f.complete(null));
            g.flushWaiters.clear();
            return;
        }
        g.dirty = false;
        GroupState state = g.consumer != null
                ? new GroupState(g.groupId, Group.CONSUMER, Group.CONSUMER, g.consumer.state(), ConsumerGroupCodec.encode(g.consumer), g.version)
                : new GroupState(g.groupId, Group.CLASSIC, g.protocolType == null ? "" : g.protocolType,
                        g.state.kafkaName, GroupCodec.encode(g), g.version);
        storage.updateGroup(state).whenComplete((stored, failure) -> table.locked(g, () -> {
            if (failure == null) {
                g.version = stored.version();
                writeNext(g);
            } else if (StorageException.unwrap(failure) instanceof VersionConflictException) {
                g.dirty = true;
                storage.group(g.groupId).whenComplete((current, f2) -> table.locked(g, () -> {
                    if (f2 == null) {
                        GroupState s = current.orElse(null);
                        long storedVersion = s == null ? GroupState.NO_VERSION : s.version();
                        GroupCodec.Snapshot snap;
                        try {
                            snap = s == null || !Group.CLASSIC.equals(s.type()) ? null : GroupCodec.decode(g.groupId, s.data());
                        } catch (NewerGroupStateException e) { // stop writing: storing ours would overwrite a newer Kiri's state
                            LOG.log(Level.WARNING, e.getMessage());
                            g.writing = false;
                            for (CompletableFuture<Void> f : g.flushWaiters) g.effects.add(() -> f.completeExceptionally(e));
                            g.flushWaiters.clear();
                            return;
                        }
                        g.version = storedVersion;
                        if (snap != null && snap.generation() > g.generation) {
                            LOG.log(Level.INFO, "group {0}: generation {1} was stored elsewhere; adopting it",
                                    g.groupId, snap.generation());
                            restorer.restore(g, s);
                            g.dirty = false;
                        }
                    }
                    writeNext(g);
                }));
            } else {
                LOG.log(Level.WARNING, "group " + g.groupId + ": storing its state failed", failure);
                writeNext(g);
            }
        }));
    }
}
