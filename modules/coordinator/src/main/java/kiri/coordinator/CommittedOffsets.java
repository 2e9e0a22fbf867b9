package kiri.coordinator;

import static kiri.coordinator.Epochs.unknownGeneration;
import static kiri.coordinator.GroupTable.code;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Storage;
import kiri.storage.api.TopicPartition;

/**
 * Committed offsets: OffsetCommit and TxnOffsetCommit (the member and generation, or member epoch,
 * checked against the group as Kafka does, then stored), OffsetFetch and OffsetDelete. The offsets
 * themselves are never held here: they go straight to storage.
 *
 * <p>Threading: every method may be called from any thread and never blocks; the group checks run
 * under the group's monitor through {@link GroupTable}, the storage calls after it is released.
 */
record CommittedOffsets(GroupTable table, ClassicGroups classic, Storage storage, Timer timer, CoordinatorConfig config) {
    /** OffsetCommit's retention time when the request sets none (Kafka's OffsetCommitRequest.DEFAULT_RETENTION_TIME). */
    private static final long DEFAULT_RETENTION_TIME = -1L;
    /** A commit's expiry left to the coordinator (retention from now). */
    private static final long UNSET_EXPIRE_AT_MS = -1L;

    /** OffsetCommit, as {@link GroupCoordinator#commitOffsets} describes. */
    CompletionStage<Map<TopicPartition, Short>> commitOffsets(String groupId, String memberId, String groupInstanceId,
                                                              int generationId, List<OffsetCommit> offsets,
                                                              int apiVersion, long retentionMs) {
        if (groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(all(offsets, ErrorCode.INVALID_GROUP_ID.code()));
        String member = memberId == null ? "" : memberId;
        return table.run(groupId, g -> {
            short error = validateCommit(g, member, groupInstanceId, generationId, false, apiVersion);
            if (error == ErrorCode.NONE.code() && g.state == GroupPhase.STABLE && g.members.containsKey(member)) {
                classic.scheduleExpiry(g, g.members.get(member)); // a commit is as good as a heartbeat
            }
            return error;
        }).thenCompose(error -> {
            if (error != ErrorCode.NONE.code()) return CompletableFuture.completedFuture(all(offsets, error));
            return store(groupId, offsets, retentionMs, (id, list) -> storage.commitOffsets(id, list));
        }).exceptionally(t -> all(offsets, code(t)));
    }

    /** TxnOffsetCommit, as {@link GroupCoordinator#txnCommitOffsets} describes. */
    CompletionStage<Map<TopicPartition, Short>> txnCommitOffsets(String transactionalId, ProducerIdAndEpoch producer,
                                                                 String groupId, String memberId,
                                                                 String groupInstanceId, int generationId,
                                                                 List<OffsetCommit> offsets) {
        if (groupId == null || groupId.isEmpty()) return CompletableFuture.completedFuture(all(offsets, ErrorCode.INVALID_GROUP_ID.code()));
        String member = memberId == null ? "" : memberId;
        return table.run(groupId, g -> validateCommit(g, member, groupInstanceId, generationId, true, 0)).thenCompose(error -> {
            if (error != ErrorCode.NONE.code()) return CompletableFuture.completedFuture(all(offsets, error));
            return store(groupId, offsets, DEFAULT_RETENTION_TIME,
                    (id, list) -> storage.txnOffsetCommit(transactionalId, producer, id, list));
        }).exceptionally(t -> all(offsets, code(t)));
    }

    private interface OffsetWriter {
        CompletionStage<Void> write(String groupId, List<OffsetCommit> offsets);
    }

    private CompletionStage<Map<TopicPartition, Short>> store(String groupId, List<OffsetCommit> offsets, long retentionMs,
                                                              OffsetWriter writer) {
        long now = timer.nowMs();
        long expireAt = now + (retentionMs > 0 ? retentionMs : config.offsetsRetentionMs());
        Map<TopicPartition, Short> result = new LinkedHashMap<>();
        List<OffsetCommit> ok = new ArrayList<>();
        for (OffsetCommit c : offsets) {
            if (c.metadata() != null && c.metadata().getBytes(StandardCharsets.UTF_8).length > config.offsetMetadataMaxBytes()) {
                result.put(c.partition(), ErrorCode.OFFSET_METADATA_TOO_LARGE.code());
            } else {
                result.put(c.partition(), ErrorCode.NONE.code());
                ok.add(new OffsetCommit(c.partition(), c.offset(), c.leaderEpoch(), c.metadata(),
                        c.expireAtMs() != UNSET_EXPIRE_AT_MS ? c.expireAtMs() : expireAt));
            }
        }
        if (ok.isEmpty()) return CompletableFuture.completedFuture(result);
        return writer.write(groupId, ok).handle((v, failure) -> {
            if (failure != null) {
                short code = code(failure);
                for (OffsetCommit c : ok) result.put(c.partition(), code);
            }
            return result;
        });
    }

    private static Map<TopicPartition, Short> all(List<OffsetCommit> offsets, short error) {
        Map<TopicPartition, Short> out = new LinkedHashMap<>();
        for (OffsetCommit c : offsets) out.put(c.partition(), error);
        return out;
    }

    private static short validateCommit(Group g, String memberId, String instanceId, int generation, boolean txn,
                                        int apiVersion) {
        if (g.dead) return ErrorCode.COORDINATOR_NOT_AVAILABLE.code();
        if (g.consumer != null) {
            // a consumer group: generationIdOrMemberEpoch is the member epoch (Kafka's ConsumerGroup.validateOffsetCommit)
            ConsumerGroup cg = g.consumer;
            if (unknownGeneration(generation) && cg.members.isEmpty()) return ErrorCode.NONE.code();
            if (txn && unknownGeneration(generation) && memberId.isEmpty() && instanceId == null) return ErrorCode.NONE.code();
            ConsumerMember m = cg.members.get(memberId);
            if (m == null) return ErrorCode.UNKNOWN_MEMBER_ID.code();
            if (!txn && apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION.code();
            return generation == m.memberEpoch ? ErrorCode.NONE.code() : ErrorCode.STALE_MEMBER_EPOCH.code();
        }
        boolean empty = g.state == GroupPhase.EMPTY && !g.hasMembers();
        if (unknownGeneration(generation) && empty) return ErrorCode.NONE.code(); // admin tools, assign() consumers
        if (empty && !unknownGeneration(generation) && g.version == GroupState.NO_VERSION) {
            if (txn) return ErrorCode.NONE.code();
            return apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND.code() : ErrorCode.ILLEGAL_GENERATION.code();
        }
        if (!unknownGeneration(generation) || !memberId.isEmpty() || instanceId != null) {
            short error = ClassicGroups.checkMember(g, memberId, instanceId, generation);
            if (error != ErrorCode.NONE.code()) return error;
        } else if (!txn && !empty) {
            return ErrorCode.UNKNOWN_MEMBER_ID.code();
        }
        if (!txn && g.state == GroupPhase.COMPLETING_REBALANCE) return ErrorCode.REBALANCE_IN_PROGRESS.code();
        return ErrorCode.NONE.code();
    }

    /** OffsetFetch: straight from storage (no group check). */
    CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId, Collection<TopicPartition> partitions,
                                                                       boolean requireStable) {
        return storage.fetchOffsets(groupId, partitions, requireStable);
    }

    /** OffsetDelete: refuses partitions of topics the group is consuming (GROUP_SUBSCRIBED_TO_TOPIC). */
    CompletionStage<OffsetDeleteResult> deleteOffsets(String groupId, List<TopicPartition> partitions) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new OffsetDeleteResult(ErrorCode.INVALID_GROUP_ID.code(), Map.of()));
        }
        return table.group(groupId).thenCompose(g -> {
            short[] error = {ErrorCode.NONE.code()};
            Set<String> subscribed = new HashSet<>();
            table.locked(g, () -> {
                if (g.dead) {
                    error[0] = ErrorCode.GROUP_ID_NOT_FOUND.code();
                } else if (g.consumer != null) {
                    for (ConsumerMember m : g.consumer.members.values()) subscribed.addAll(g.consumer.subscribedTopics(m));
                } else if (g.hasMembers()) {
                    if (Group.CONSUMER.equals(g.protocolType)) {
                        for (Member m : g.members.values()) {
                            String protocol = g.protocolName != null ? g.protocolName
                                    : m.protocols.isEmpty() ? null : m.protocols.getFirst().name();
                            subscribed.addAll(ClassicGroups.subscribedTopics(m.metadata(protocol)));
                        }
                    } else {
                        error[0] = ErrorCode.NON_EMPTY_GROUP.code();
                    }
                }
            });
            if (error[0] != ErrorCode.NONE.code()) return CompletableFuture.completedFuture(new OffsetDeleteResult(error[0], Map.of()));
            Map<TopicPartition, Short> result = new LinkedHashMap<>();
            List<TopicPartition> deletable = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                if (subscribed.contains(tp.topic())) {
                    result.put(tp, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC.code());
                } else {
                    result.put(tp, ErrorCode.NONE.code());
                    deletable.add(tp);
                }
            }
            return storage.deleteOffsets(groupId, deletable).handle((v, failure) -> failure == null
                    ? new OffsetDeleteResult(ErrorCode.NONE.code(), result)
                    : new OffsetDeleteResult(code(failure), Map.of()));
        }).exceptionally(t -> new OffsetDeleteResult(code(t), Map.of()));
    }
}
