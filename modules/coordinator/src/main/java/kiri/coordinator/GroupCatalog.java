package kiri.coordinator;

import static kiri.coordinator.GroupTable.code;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.Storage;

/**
 * The groups as an admin sees them: DescribeGroups (classic groups), ListGroups (stored groups, with
 * the live state of those in memory) and DeleteGroups (once every change is stored, so a late write
 * cannot bring a deleted group back).
 *
 * <p>Threading: every method may be called from any thread and never blocks; a group's state is read
 * under its monitor, storage is called after it is released.
 */
record GroupCatalog(GroupTable table, GroupWriteBehind writeBehind, Storage storage) {
    CompletionStage<GroupDescription> describe(String groupId) {
        return table.group(groupId).thenCompose(g -> {
            GroupDescription[] live = new GroupDescription[1];
            table.locked(g, () -> {
                if (!g.dead && g.consumer != null) live[0] = notFound(g.groupId); // not a classic group, as Kafka answers
                else if (!g.dead && (g.hasMembers() || g.state != GroupPhase.EMPTY)) live[0] = describe(g);
            });
            if (live[0] != null) return CompletableFuture.completedFuture(live[0]);
            return storage.group(groupId).thenApply(stored -> stored
                    .map(s -> new GroupDescription(ErrorCode.NONE.code(), groupId, GroupPhase.EMPTY.kafkaName, s.protocolType(), "",
                            List.of()))
                    .orElseGet(() -> notFound(groupId)));
        }).exceptionally(t -> new GroupDescription(code(t), groupId, GroupPhase.DEAD.kafkaName, "", "", List.of()));
    }

    private static GroupDescription notFound(String groupId) {
        return new GroupDescription(ErrorCode.GROUP_ID_NOT_FOUND.code(), groupId, GroupPhase.DEAD.kafkaName, "", "", List.of());
    }

    private static GroupDescription describe(Group g) {
        boolean stable = g.state == GroupPhase.STABLE;
        List<GroupDescription.MemberDescription> members = new ArrayList<>();
        for (Member m : g.members.values()) {
            members.add(new GroupDescription.MemberDescription(m.memberId, m.groupInstanceId, m.clientId, m.clientHost,
                    stable ? m.metadata(g.protocolName) : Member.EMPTY, stable ? m.assignment : Member.EMPTY));
        }
        return new GroupDescription(ErrorCode.NONE.code(), g.groupId, g.state.kafkaName, g.protocolType == null ? "" : g.protocolType,
                stable && g.protocolName != null ? g.protocolName : "", members);
    }

    /**
     * ListGroups: stored groups, with the live state of those this coordinator runs.
     *
     * @param states state names to keep (case-insensitive); empty keeps all
     * @param types  group types to keep (case-insensitive); empty keeps all
     */
    CompletionStage<List<GroupListing>> list(Collection<String> states, Collection<String> types) {
        return storage.listGroups().thenApply(stored -> {
            TreeMap<String, GroupListing> all = new TreeMap<>();
            for (GroupListing l : stored) all.put(l.groupId(), l);
            for (CompletableFuture<Group> f : table.entries()) {
                if (!f.isDone() || f.isCompletedExceptionally()) continue; // still loading, or failed to
                Group g = f.join();
                synchronized (g) {
                    if (g.dead) {
                        all.remove(g.groupId);
                    } else if (g.consumer != null) {
                        all.put(g.groupId, new GroupListing(g.groupId, Group.CONSUMER, Group.CONSUMER, g.consumer.state()));
                    } else if (g.hasMembers() || g.state != GroupPhase.EMPTY || g.version != GroupState.NO_VERSION) {
                        all.put(g.groupId, new GroupListing(g.groupId, Group.CLASSIC, g.protocolType == null ? "" : g.protocolType,
                                g.state.kafkaName));
                    }
                }
            }
            Set<String> s = lower(states);
            Set<String> t = lower(types);
            List<GroupListing> out = new ArrayList<>();
            for (GroupListing l : all.values()) {
                if ((s.isEmpty() || s.contains(l.state().toLowerCase(Locale.ROOT)))
                        && (t.isEmpty() || t.contains(l.type().toLowerCase(Locale.ROOT)))) {
                    out.add(l);
                }
            }
            return out;
        });
    }

    private static Set<String> lower(Collection<String> values) {
        Set<String> out = new HashSet<>();
        if (values != null) for (String v : values) out.add(v.toLowerCase(Locale.ROOT));
        return out;
    }

    /** DeleteGroups for one group: NONE, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, INVALID_GROUP_ID. */
    CompletionStage<Short> delete(String groupId) {
        if (groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(ErrorCode.INVALID_GROUP_ID.code());
        return table.group(groupId).thenCompose(g -> {
            short[] early = {ErrorCode.NONE.code()};
            List<CompletableFuture<Void>> flushed = new ArrayList<>(1);
            table.locked(g, () -> {
                if (g.dead) early[0] = ErrorCode.GROUP_ID_NOT_FOUND.code();
                else if (g.hasMembers() || g.state != GroupPhase.EMPTY) early[0] = ErrorCode.NON_EMPTY_GROUP.code();
                else flushed.add(GroupWriteBehind.flushed(g));
            });
            if (early[0] != ErrorCode.NONE.code()) return CompletableFuture.completedFuture(early[0]);
            return flushed.getFirst().thenCompose(v -> storage.deleteGroup(groupId)).handle((v, failure) -> {
                if (failure != null) return code(failure);
                table.locked(g, () -> {
                    if (!g.hasMembers() && g.state == GroupPhase.EMPTY) {
                        g.dead = true;
                        g.state = GroupPhase.DEAD;
                        for (Timer.Task t : g.pendingMembers.values()) t.cancel();
                        g.pendingMembers.clear();
                        table.forget(g);
                    } else {
                        g.version = GroupState.NO_VERSION; // members came meanwhile: store the group afresh
                        writeBehind.markDirty(g);
                    }
                });
                return ErrorCode.NONE.code();
            });
        }).exceptionally(GroupTable::code);
    }
}
