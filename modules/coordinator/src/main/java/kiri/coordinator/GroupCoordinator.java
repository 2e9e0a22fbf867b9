package kiri.coordinator;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Storage;
import kiri.storage.api.TopicPartition;

/**
 * Kafka's group coordinator over the storage SPI: classic groups (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup), KIP-848 consumer groups (ConsumerGroupHeartbeat, ConsumerGroupDescribe), DescribeGroups,
 * ListGroups, DeleteGroups and committed offsets (OffsetCommit/Fetch/Delete, TxnOffsetCommit).
 *
 * <p>This class is the entry point and the wiring; the work is done by one class per job:
 * {@link ClassicGroups} (the classic rebalance state machine), {@link ConsumerGroups} (KIP-848),
 * {@link CommittedOffsets}, {@link GroupCatalog} (describe, list, delete), {@link GroupWriteBehind}
 * (every group change is stored behind it, compare-and-set on a version) and {@link GroupTable}
 * (groups in memory, loaded from storage on first use, one monitor per group). A group id holds
 * either a classic group or a consumer group. Live membership is held in memory (response futures
 * cannot be stored); a group not in memory is loaded from storage, so a restarted broker, or another
 * broker over the same storage, continues a group's generation.
 *
 * <p>Threading: every method may be called from any thread and never blocks. Each group is guarded
 * by its own monitor; response futures are completed after it is released.
 */
public final class GroupCoordinator implements AutoCloseable {
    private final CoordinatorConfig config;
    private final GroupTable table;
    private final GroupWriteBehind writeBehind;
    private final ClassicGroups classic;
    private final ConsumerGroups consumer;
    private final CommittedOffsets offsets;
    private final GroupCatalog catalog;

    public GroupCoordinator(Storage storage, CoordinatorConfig config, Timer timer) {
        this.config = config;
        this.table = new GroupTable(storage, this::restore);
        this.writeBehind = new GroupWriteBehind(table, storage, this::restore);
        this.classic = new ClassicGroups(table, writeBehind, timer, config);
        this.consumer = new ConsumerGroups(table, writeBehind, storage, timer, config);
        this.offsets = new CommittedOffsets(table, classic, storage, timer, config);
        this.catalog = new GroupCatalog(table, writeBehind, storage);
    }

    public CoordinatorConfig config() {
        return config;
    }

    /** Replaces the in-memory group with a stored one (called holding its monitor); classic members here rejoin. */
    private void restore(Group g, GroupState stored) {
        if (Group.CONSUMER.equals(stored.type())) consumer.restore(g, stored);
        else classic.restore(g, stored);
    }

    // ---- classic groups ------------------------------------------------------------------------------

    /** JoinGroup; the answer completes when the rebalance gets there (or at once with an error). */
    public CompletionStage<JoinResult> join(JoinRequest r) {
        return classic.join(r);
    }

    /** SyncGroup; a follower's answer completes when the leader has sent the assignments. */
    public CompletionStage<SyncResult> sync(SyncRequest r) {
        return classic.sync(r);
    }

    /** Heartbeat: NONE, REBALANCE_IN_PROGRESS (rejoin), ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID. */
    public CompletionStage<Short> heartbeat(String groupId, String memberId, String groupInstanceId, int generationId) {
        return classic.heartbeat(groupId, memberId, groupInstanceId, generationId);
    }

    /** One member to remove (LeaveGroup): by member id, or by group.instance.id for static members. */
    public record Leaving(String memberId, String groupInstanceId) {
    }

    public CompletionStage<LeaveResult> leave(String groupId, List<Leaving> leaving) {
        return classic.leave(groupId, leaving);
    }

    // ---- consumer groups (KIP-848) -------------------------------------------------------------------

    /**
     * ConsumerGroupHeartbeat: joins (member epoch 0), heartbeats, and leaves (-1) a consumer group; the
     * answer carries the member's epoch and, when it changed, its assignment. A static member
     * (group.instance.id) leaves with -2 keeping its assignment, and a new member with the same
     * instance id takes it over without a rebalance.
     */
    public CompletionStage<ConsumerHeartbeatResult> consumerHeartbeat(ConsumerHeartbeat r) {
        return consumer.consumerHeartbeat(r);
    }

    /** ConsumerGroupDescribe for one group: GROUP_ID_NOT_FOUND unless it is a consumer group. */
    public CompletionStage<ConsumerGroupDescription> describeConsumerGroup(String groupId) {
        return consumer.describeConsumerGroup(groupId);
    }

    /**
     * OffsetFetch v9+ from a member of a consumer group: UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH when the
     * member or its epoch is not the current one; NONE otherwise (and for anyone else, as admin tools fetch).
     */
    public CompletionStage<Short> validateOffsetFetch(String groupId, String memberId, int memberEpoch) {
        return consumer.validateOffsetFetch(groupId, memberId, memberEpoch);
    }

    /** Test hook: the group's epoch and each member's epoch, state and assignment, as text. */
    String consumerGroupState(String groupId) {
        return consumer.consumerGroupState(groupId);
    }

    // ---- DescribeGroups, ListGroups, DeleteGroups ----------------------------------------------------

    /** DescribeGroups for one group (GROUP_ID_NOT_FOUND for a consumer group, as Kafka answers). */
    public CompletionStage<GroupDescription> describe(String groupId) {
        return catalog.describe(groupId);
    }

    /**
     * ListGroups: stored groups, with the live state of those this coordinator runs.
     *
     * @param states state names to keep (case-insensitive); empty keeps all
     * @param types  group types to keep (case-insensitive); empty keeps all
     */
    public CompletionStage<List<GroupListing>> list(Collection<String> states, Collection<String> types) {
        return catalog.list(states, types);
    }

    /** DeleteGroups for one group: NONE, NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, INVALID_GROUP_ID. */
    public CompletionStage<Short> delete(String groupId) {
        return catalog.delete(groupId);
    }

    // ---- committed offsets ---------------------------------------------------------------------------

    /**
     * OffsetCommit: checks the member and generation as Kafka does (generation -1 and no member id: only
     * while the group has no members, as admin tools and {@code assign()} consumers commit), then stores.
     *
     * @param apiVersion the OffsetCommit version (v9+ answers GROUP_ID_NOT_FOUND for a missing group)
     * @param retentionMs the request's retention time (v2-v4), or -1 for the broker default
     * @return an error code per partition, in request order
     */
    public CompletionStage<Map<TopicPartition, Short>> commitOffsets(String groupId, String memberId, String groupInstanceId,
                                                                     int generationId, List<OffsetCommit> offsets,
                                                                     int apiVersion, long retentionMs) {
        return this.offsets.commitOffsets(groupId, memberId, groupInstanceId, generationId, offsets, apiVersion, retentionMs);
    }

    /**
     * TxnOffsetCommit: the same member checks (no group or generation -1 is accepted, as producers
     * that are not consumers commit so), then the offsets are held by the transaction.
     */
    public CompletionStage<Map<TopicPartition, Short>> txnCommitOffsets(String transactionalId, ProducerIdAndEpoch producer,
                                                                        String groupId, String memberId,
                                                                        String groupInstanceId, int generationId,
                                                                        List<OffsetCommit> offsets) {
        return this.offsets.txnCommitOffsets(transactionalId, producer, groupId, memberId, groupInstanceId, generationId,
                offsets);
    }

    /**
     * OffsetFetch: committed offsets of {@code partitions} (null: all of the group's). Partitions without
     * one are left out; fails UNSTABLE_OFFSET_COMMIT when {@code requireStable} and a transaction holds
     * pending offsets for them.
     */
    public CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId,
                                                                              Collection<TopicPartition> partitions,
                                                                              boolean requireStable) {
        return offsets.fetchOffsets(groupId, partitions, requireStable);
    }

    /** OffsetDelete: refuses partitions of topics the group is consuming (GROUP_SUBSCRIBED_TO_TOPIC). */
    public CompletionStage<OffsetDeleteResult> deleteOffsets(String groupId, List<TopicPartition> partitions) {
        return offsets.deleteOffsets(groupId, partitions);
    }

    // ---- lifecycle -----------------------------------------------------------------------------------

    /** Test hook: completes once the group's state is stored. */
    CompletableFuture<Void> flushed(String groupId) {
        return writeBehind.flushed(groupId);
    }

    /** Fails nothing and keeps nothing: the timer and storage belong to the caller. */
    @Override
    public void close() {
        table.clear();
    }
}
