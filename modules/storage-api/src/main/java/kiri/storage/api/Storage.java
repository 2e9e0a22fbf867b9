package kiri.storage.api;

import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.RecordBatch;

/**
 * An open storage engine: everything a Kafka-compatible broker keeps. One instance per broker,
 * from {@link StorageProvider#open}; the router's handlers and coordinators are its only callers.
 *
 * <h2>Threading</h2>
 * Every method may be called from any event-loop thread, concurrently, and must not block: an
 * engine that does I/O returns an incomplete stage and completes it from its own threads (a
 * durable engine completes {@link #produce} once the batch is as durable as its URL asks). Engines
 * that answer synchronously return completed stages ({@link Stages#DONE}, {@link Stages#of}).
 * Continuations the router attaches may therefore run on an engine thread; the router hops back to
 * its event loop where that matters. Callers never complete, cancel or obtrude a returned stage,
 * except the futures of {@link #awaitData}, which they may cancel.
 *
 * <h2>Errors</h2>
 * Failures are reported by completing the stage exceptionally with a {@link StorageException}
 * carrying the Kafka error code for the response (see {@link kiri.protocol.ErrorCode}); methods never throw for
 * them. Anything else is reported by the router as UNKNOWN_SERVER_ERROR.
 *
 * <h2>Batches</h2>
 * Record batches cross this interface as {@link MemorySegment} views of whole v2 batches, never as
 * per-record objects; see {@link #produce} and {@link #fetch} for who owns the bytes and for how long.
 *
 * <h2>Identity</h2>
 * Partitions are named by topic name; the router resolves topic ids (Fetch and Produce v13+,
 * Metadata v10+) through {@link #describeTopics} and may cache the mapping per topic id.
 */
public interface Storage extends AutoCloseable {

    // ---- identity and cluster ---------------------------------------------------------------

    /** The cluster id, fixed once the storage is open. Thread-safe, never blocks. */
    String clusterId();

    /** This broker's node id (from the {@link StorageContext}). Thread-safe, never blocks. */
    int nodeId();

    /** One line for the broker's startup banner, e.g. {@code "null:// (records are discarded)"}. Thread-safe, never blocks. */
    String describe();

    /**
     * Registers (or refreshes) a broker so that {@link #brokers()} and topic metadata report it. The
     * broker registers itself once its listener is bound (the port may have been 0 until then) and
     * engines shared by several brokers keep one entry per node id. Any thread; never blocks.
     */
    CompletionStage<Void> registerBroker(BrokerInfo broker);

    /**
     * The live brokers, by node id (Metadata, DescribeCluster): for a single-node engine the registered ones; for an
     * engine shared by several brokers those whose lease is current. Any thread; never blocks.
     */
    CompletionStage<List<BrokerInfo>> brokers();

    /**
     * Where a partition is served now: its leader, leader epoch, replicas and ISR, as Metadata reports them. A
     * single-node engine returns {@code partition} as stored (the default); an engine shared by several brokers
     * spreads leadership over the live ones (leader -1: none known, e.g. this broker lost its lease). The router
     * answers Produce and Fetch for a partition led by another node with NOT_LEADER_OR_FOLLOWER and this placement
     * as the KIP-951 hint.
     *
     * <p>Any thread; never blocks and does no I/O (called per partition on the produce and fetch paths).
     */
    default PartitionInfo placement(TopicInfo topic, PartitionInfo partition) {
        return partition;
    }

    /**
     * The live broker that coordinates a group or transactional id (FindCoordinator), -1 if none is known. Default:
     * this node. Any thread; never blocks and does no I/O.
     */
    default int coordinator(String key) {
        return nodeId();
    }

    /** Completes normally if the storage can serve requests (health checks). Any thread; never blocks. */
    CompletionStage<Void> ping();

    // ---- topics ----------------------------------------------------------------------------

    /**
     * Creates a topic (CreateTopics). Engines apply {@link Topics#validate} (name, partitions,
     * replication factor against {@link #brokers()}, configs via {@link TopicConfigs}) and refuse
     * existing names (TOPIC_ALREADY_EXISTS) and '.'/'_' collisions (INVALID_TOPIC_EXCEPTION).
     *
     * <p>Any thread; never blocks.
     *
     * @param validateOnly check everything, create nothing (the returned info then has a fresh id that is never stored)
     * @return the topic as created, with its new id; its configs are the validated overrides
     *         (the router adds defaults with {@link TopicConfigs#describe} for CreateTopics v5+)
     */
    CompletionStage<TopicInfo> createTopic(NewTopic topic, boolean validateOnly);

    /**
     * Deletes a topic with its records, committed offsets and producer state (DeleteTopics). Waiting
     * fetches on its partitions are woken so that they re-fetch and see the error.
     *
     * <p>Any thread; never blocks.
     *
     * @return the topic as it was; fails UNKNOWN_TOPIC_OR_PARTITION (by name) or UNKNOWN_TOPIC_ID (by id)
     */
    CompletionStage<TopicInfo> deleteTopic(TopicRef topic);

    /**
     * Grows a topic to {@code totalCount} partitions (CreatePartitions); existing partitions keep their data.
     *
     * <p>Any thread; never blocks.
     *
     * @return the topic after the change (or as it would be, if {@code validateOnly}); fails
     *         UNKNOWN_TOPIC_OR_PARTITION or INVALID_PARTITIONS (not an increase).
     */
    CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly);

    /** Every topic, sorted by name (Metadata with null topics, ListTopics). Any thread; never blocks. */
    CompletionStage<List<TopicInfo>> listTopics();

    /**
     * The topics {@code refs} name that exist, in the order asked; missing ones are left out (the
     * router answers them with {@link TopicRef#unknownError()}). Any thread; never blocks.
     */
    CompletionStage<List<TopicInfo>> describeTopics(Collection<? extends TopicRef> refs);

    /**
     * Applies IncrementalAlterConfigs operations to a topic's overrides, atomically, with
     * {@link TopicConfigs#apply}. Legacy AlterConfigs (replace all) is the router's to express as
     * operations: DELETE of each current override not in the new set, SET of each new value.
     *
     * <p>Any thread; never blocks.
     *
     * @return the topic with its new overrides (unchanged in storage if {@code validateOnly}); fails
     *         UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG or INVALID_REQUEST.
     */
    CompletionStage<TopicInfo> alterTopicConfigs(String topic, List<ConfigOp> ops, boolean validateOnly);

    // ---- records -----------------------------------------------------------------------------

    /**
     * Appends one v2 record batch (Produce; Kafka allows exactly one batch per partition per request).
     * The router has validated the header, the CRC and that {@code batch} spans exactly one batch.
     *
     * <p>The engine assigns the batch's offsets by writing the base offset <em>into the caller's
     * segment</em> (bytes 0-7, big-endian) and stamps {@code partitionLeaderEpoch} (bytes 12-15); for a
     * LogAppendTime topic it also stamps the append time ({@link RecordBatch#setLogAppendTime}).
     * When the stage completes normally, the router reads the answer from the batch it still holds:
     * base offset from bytes 0-7, and the log append time from the max timestamp if the timestamp-type
     * flag is set (else -1). This keeps the produce path free of result objects; an in-memory engine
     * returns the shared {@link Stages#DONE}. A duplicate (a retried batch already stored, see
     * {@code kiri.storage.kit.PartitionProducerState}) completes normally with the <em>original</em> base offset written
     * into the batch and is not stored again.
     *
     * <p>Lifetime: {@code batch} is valid, and writable, only until the returned stage completes; an
     * engine that keeps the bytes beyond that (a memory engine, a write queue) copies them. The engine
     * writes the offset before completing the stage and does not touch the segment afterwards.
     *
     * <p>Checks: partition exists (UNKNOWN_TOPIC_OR_PARTITION), batch within the topic's
     * {@code max.message.bytes} (MESSAGE_TOO_LARGE), producer sequence and epoch (OUT_OF_ORDER_SEQUENCE_NUMBER,
     * INVALID_PRODUCER_EPOCH), and for transactional batches that {@code transactionalId}'s current
     * producer wrote it (INVALID_PRODUCER_ID_MAPPING, INVALID_PRODUCER_EPOCH); the partition joins the
     * open transaction if AddPartitionsToTxn did not add it (as Kafka's transaction version 2 does).
     * After appending, waiters from {@link #awaitData} are signalled.
     *
     * <p>Any thread, concurrently for the same partition; never waits for durability (the stage does). An engine
     * may write the batch to its files on the calling thread (the file engine does, a page-cache write; rarely
     * also rolling a segment, which forces the old one).
     *
     * @param transactionalId the request's transactional id, or null
     */
    CompletionStage<Void> produce(String transactionalId, TopicPartition partition, MemorySegment batch);

    /**
     * Ends a round of calls from this thread. An event loop calls it after each round of ready connections, before
     * it waits again. An engine that makes appends durable in groups may then, once a thread has called this, keep
     * that thread's appends pending until its next call and make them durable on it, all with one sync, instead of
     * handing them to a thread of its own (a hand-off and back costs two thread wake-ups per group). So a thread that
     * calls this once must call it after every round. Engines that complete appends by themselves ignore it.
     */
    default void endRound() {
    }

    /**
     * Reads whole batches of one partition starting with the batch that contains {@code offset}.
     *
     * <p>Returns batches up to {@code maxBytes} in total; if the first batch alone is larger it is
     * returned anyway when {@code minOneBatch} (Kafka gives the first partition of a response with
     * data this right so that consumers always progress), else none is. READ_UNCOMMITTED reads up to
     * the high watermark, READ_COMMITTED up to the last stable offset and also returns the aborted
     * transactions overlapping the returned range. An offset equal to the fetchable end gives an
     * empty result; one below the log start offset or above the high watermark fails
     * OFFSET_OUT_OF_RANGE. Batches may begin before {@code offset} (clients skip the records before it).
     *
     * <p>Lifetime: the result's regions stay valid until the caller closes the {@link FetchResult};
     * the caller closes every result it receives exactly once.
     *
     * <p>Any thread, concurrently; never blocks.
     */
    CompletionStage<FetchResult> fetch(TopicPartition partition, long offset, int maxBytes, boolean minOneBatch,
                                       IsolationLevel isolation);

    /**
     * For long-poll fetches (max wait, min bytes): a future completed once the partition's fetchable
     * end at {@code isolation} passes {@code offset}, i.e. once a fetch at {@code offset} would return
     * something, and also when the partition is deleted or the storage closes (so that the router
     * re-fetches and reports what happened). It may complete spuriously; the router re-fetches and
     * waits again until its deadline. It completes at once if data is already there.
     *
     * <p>The router cancels it (or lets {@code orTimeout} complete it) when the fetch ends otherwise;
     * the engine then forgets it. It completes on the thread that appended the data: the router hops
     * to its own event loop before doing work. Engines use {@code kiri.storage.kit.DataWaiters}.
     *
     * <p>Any thread; never blocks. Fails UNKNOWN_TOPIC_OR_PARTITION for a missing partition.
     */
    CompletableFuture<Void> awaitData(TopicPartition partition, long offset, IsolationLevel isolation);

    /** The partition's log start offset, last stable offset and high watermark. Any thread; never blocks. */
    CompletionStage<PartitionOffsets> offsets(TopicPartition partition);

    /**
     * ListOffsets for one partition: {@code timestamp} is one of the {@link OffsetSpec} constants or a
     * time in ms, for which the answer is the first offset whose record timestamp is {@code >=} it
     * ({@link OffsetAndTimestamp#UNKNOWN} if none). LATEST under READ_COMMITTED is the last stable offset.
     * Any thread; never blocks. Fails UNKNOWN_TOPIC_OR_PARTITION, or INVALID_REQUEST for an unknown negative spec.
     */
    CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition partition, long timestamp, IsolationLevel isolation);

    /**
     * DeleteRecords: advances the log start offset to {@code beforeOffset} ({@code -1}: the high
     * watermark); never moves it back.
     *
     * <p>Any thread; never blocks.
     *
     * @return the new log start offset (the low watermark); fails OFFSET_OUT_OF_RANGE beyond the high watermark.
     */
    CompletionStage<Long> deleteRecords(TopicPartition partition, long beforeOffset);

    // ---- committed offsets -------------------------------------------------------------------

    /**
     * Stores committed offsets for a group, atomically (OffsetCommit, after the coordinator checked the
     * generation). Engines do not check that the topics exist; a commit replaces the previous one per
     * partition and records the engine clock's time. Any thread; never blocks.
     */
    CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets);

    /**
     * Committed offsets of a group (OffsetFetch): for {@code partitions}, or every partition with an
     * offset if null; partitions without one are left out. Fails UNSTABLE_OFFSET_COMMIT when
     * {@code requireStable} and a transaction has pending offsets for one of them (the client retries).
     * Any thread; never blocks.
     */
    CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId, Collection<TopicPartition> partitions,
                                                                       boolean requireStable);

    /** Deletes committed offsets (OffsetDelete; the coordinator checks the group does not consume those topics). Any thread; never blocks. */
    CompletionStage<Void> deleteOffsets(String groupId, Collection<TopicPartition> partitions);

    // ---- consumer groups ---------------------------------------------------------------------

    /**
     * Every group: those with stored state and those with only committed offsets
     * ({@link GroupState#offsetsOnly}), by group id. Any thread; never blocks.
     */
    CompletionStage<List<GroupListing>> listGroups();

    /**
     * A group's stored state; {@link GroupState#offsetsOnly} (version {@link GroupState#NO_VERSION}) if it
     * has only committed offsets; empty if neither. Any thread; never blocks.
     */
    CompletionStage<Optional<GroupState>> group(String groupId);

    /**
     * Compare-and-set of a group's state: stores {@code state} if the stored version equals
     * {@code state.version()} ({@link GroupState#NO_VERSION}: only if no state is stored), so that
     * coordinators on several brokers sharing one storage never lose an update.
     *
     * <p>Any thread; never blocks.
     *
     * @return the stored state with its new version; fails with {@link VersionConflictException}
     *         otherwise (the caller reloads with {@link #group} and retries).
     */
    CompletionStage<GroupState> updateGroup(GroupState state);

    /**
     * DeleteGroups: removes a group's state and committed offsets, atomically with the check that it
     * has no members ({@link GroupState#isDeletable()}, else NON_EMPTY_GROUP); GROUP_ID_NOT_FOUND if
     * there is neither state nor offsets. Any thread; never blocks.
     */
    CompletionStage<Void> deleteGroup(String groupId);

    // ---- producers and transactions ----------------------------------------------------------

    /**
     * InitProducerId. Without a transactional id: a fresh producer id, epoch 0 (idempotent producers
     * bump epochs themselves). With one: the first call allocates an id; later calls follow
     * {@code kiri.storage.kit.ProducerEpochs.reinit} (bump the epoch, fencing the previous producer; new id once the epoch
     * is exhausted; KIP-360 re-init with {@code expected}), first aborting an open transaction.
     *
     * <p>Any thread; never blocks.
     *
     * @param transactionTimeoutMs the client's transaction timeout (the router enforces the broker's
     *                             maximum); fails INVALID_TRANSACTION_TIMEOUT if not positive
     * @param expected             the (id, epoch) in the request, {@link ProducerIdAndEpoch#NONE} if (-1, -1)
     * @return the producer id and epoch; fails PRODUCER_FENCED.
     */
    CompletionStage<ProducerIdAndEpoch> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                       ProducerIdAndEpoch expected);

    /**
     * AddPartitionsToTxn: opens the transaction if needed and adds partitions to it.
     *
     * <p>Any thread; never blocks.
     *
     * @return per-partition errors: empty if all were added; otherwise none were added and the map has
     *         an entry for every partition (UNKNOWN_TOPIC_OR_PARTITION for the missing ones,
     *         OPERATION_NOT_ATTEMPTED for the others), as Kafka answers. Fails INVALID_PRODUCER_ID_MAPPING
     *         or PRODUCER_FENCED for the whole request.
     */
    CompletionStage<Map<TopicPartition, Short>> addPartitionsToTxn(String transactionalId, ProducerIdAndEpoch producer,
                                                                   Collection<TopicPartition> partitions);

    /** AddOffsetsToTxn: the group's offsets will be committed with the transaction. Fails as {@link #addPartitionsToTxn}. Any thread; never blocks. */
    CompletionStage<Void> addOffsetsToTxn(String transactionalId, ProducerIdAndEpoch producer, String groupId);

    /**
     * TxnOffsetCommit: offsets held pending until the transaction ends (visible on commit, dropped on
     * abort; meanwhile {@link #fetchOffsets} with {@code requireStable} fails UNSTABLE_OFFSET_COMMIT).
     * The coordinator checks the group generation first. Any thread; never blocks.
     */
    CompletionStage<Void> txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                          List<OffsetCommit> offsets);

    /**
     * EndTxn: writes a COMMIT or ABORT marker ({@link kiri.protocol.record.ControlBatch}) to every partition of the
     * transaction, which moves their last stable offsets (and, for an abort, records the aborted
     * ranges), applies or drops the pending offsets, and leaves the transaction complete. Repeating the
     * same end (a client retry) succeeds; ending a transaction that is not open otherwise fails
     * INVALID_TXN_STATE, except an abort with nothing open, which succeeds.
     *
     * <p>Any thread; never blocks.
     *
     * @param bumpEpoch transaction version 2 (EndTxn v5+): bump the epoch as part of ending
     * @return the producer id and epoch to use next (bumped if {@code bumpEpoch}).
     */
    CompletionStage<ProducerIdAndEpoch> endTxn(String transactionalId, ProducerIdAndEpoch producer, boolean commit,
                                               boolean bumpEpoch);

    /**
     * Transactions by transactional id (DescribeTransactions), or all of them if {@code transactionalIds}
     * is null (ListTransactions); unknown ids are left out. Any thread; never blocks.
     */
    CompletionStage<List<TransactionDescription>> describeTransactions(Collection<String> transactionalIds);

    /** Producers with state on a partition (DescribeProducers). Any thread; never blocks. */
    CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition partition);

    // ---- security ----------------------------------------------------------------------------------

    /**
     * The stored SCRAM credentials and ACLs ({@link SecurityState#EMPTY} when none were ever saved). Read by the
     * broker once at startup. Any thread; never blocks. The default keeps nothing.
     */
    default CompletionStage<SecurityState> security() {
        return CompletableFuture.completedFuture(SecurityState.EMPTY);
    }

    /**
     * Replaces the stored security state with {@code state}, durably when the engine is durable; the broker
     * serializes its calls. Any thread; never blocks. The default refuses: an engine that cannot keep it says so
     * rather than forgetting credentials at restart.
     */
    default CompletionStage<Void> saveSecurity(SecurityState state) {
        return Stages.failed(ErrorCode.INVALID_REQUEST,
                "the storage engine " + describe() + " does not keep SCRAM credentials or ACLs");
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    /**
     * Housekeeping, called by the broker on a timer (every few seconds): aborts transactions open
     * longer than their timeout (bumping the epoch to fence the producer, as Kafka does), drops expired
     * committed offsets (not while their group has members), applies retention, expires idle producer
     * state. Driven from outside so that engines need no scheduler and tests control time.
     * Any thread; never blocks.
     *
     * @param nowMs the current time in ms (normally the context clock's)
     */
    CompletionStage<Void> maintain(long nowMs);

    /**
     * Bytes stored per partition (DescribeLogDirs). Engines that keep no records report an empty map.
     * Any thread; never blocks.
     */
    CompletionStage<Map<TopicPartition, Long>> partitionSizes();

    /**
     * Closes the storage: flushes what the engine promised to keep, releases files and threads, wakes
     * every {@link #awaitData} waiter. Operations afterwards fail KAFKA_STORAGE_ERROR. Idempotent.
     * Called once by the broker after its listeners stopped; it may block (final flush).
     */
    @Override
    void close();
}
