package kiri.storage.postgres;

import java.lang.foreign.MemorySegment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import kiri.compress.RecordTimestamps;
import kiri.protocol.ErrorCode;
import kiri.protocol.Records;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.FetchResult;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Stages;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.storage.api.Topics;
import kiri.storage.api.TransactionDescription;
import kiri.storage.kit.CatalogStorage;
import kiri.storage.kit.CatalogTopic;
import kiri.storage.kit.FetchRange;
import kiri.storage.kit.TransactionTable;

/**
 * The postgres engine. Topics (with their ids and configs), partitions and record batches are in
 * PostgreSQL ({@link PgSchema}); the catalogue is loaded on open and written through on every change.
 * Records go through {@link PgPartition}. Consumer groups and committed offsets ({@link PgGroups}), producer
 * ids ({@link PgProducerIds}) and transactions ({@link PgTransactions}) are rows that every broker reads and
 * writes directly, so they survive restarts and are shared; {@link CatalogStorage}'s in-memory tables for them
 * stay empty. Topics changed by another broker are re-read on its {@code NOTIFY kiri_catalog}, and a topic
 * asked for by name that the catalogue lacks is looked up before answering.
 *
 * <p>Threads: every method returns at once; database work runs on {@link PgPool}'s threads, whose
 * completions run the router's continuations.
 */
final class PgStorage extends CatalogStorage<PgPartition> {
    /** Kafka's default producer.id.expiration.ms. */
    static final long PRODUCER_EXPIRATION_MS = 86_400_000L;
    /** Rows read per fetch query before checking the byte budget again. */
    private static final int FETCH_ROWS = 64;

    private final PgConfig config;
    private final PgPool pool;
    private final PgNotifier notifier;
    private final PgProducerIds producerIds = new PgProducerIds();
    private final PgCluster cluster;
    /** Set once a broker registered: until then (tools, tests of the engine alone) placements are single-node. */
    private volatile boolean inCluster;
    private final PgTransactions txns;
    /** Set while a catalogue refresh is queued, so a burst of notifications costs one re-read. */
    private final java.util.concurrent.atomic.AtomicBoolean refreshQueued = new java.util.concurrent.atomic.AtomicBoolean();
    /**
     * Guards {@link #catalogChanges} and applying a catalogue read: a read that began before this broker created or
     * deleted a topic must not be applied after that change (it would forget the new topic or bring back the
     * deleted one), so it is read again.
     */
    private final Object catalogLock = new Object();
    /** Topic creations and deletions this broker has applied; guarded by {@link #catalogLock}. */
    private long catalogChanges;
    /** Writes that {@link #maintain} started on this thread and answers after: transaction expiry, retention. */
    private final ThreadLocal<List<CompletableFuture<Void>>> markersOut = new ThreadLocal<>();

    private PgStorage(StorageContext context, PgConfig config, PgPool pool, PgConnector connector) {
        super(context);
        this.config = config;
        this.pool = pool;
        this.notifier = new PgNotifier(connector, this::changedElsewhere, this::refreshTopics, this::resync);
        this.cluster = new PgCluster(connector, config.sessionTimeoutMs(), config.heartbeatMs());
        this.txns = new PgTransactions(producerIds, new PgTransactions.Partitions() {
            @Override
            public boolean exists(TopicPartition tp) {
                return partition(tp) != null;
            }

            @Override
            public void writeMarker(Connection c, TopicPartition tp, ProducerIdAndEpoch producer, boolean commit, long nowMs)
                    throws SQLException {
                PgPartition p = partition(tp);
                if (p != null) p.appendMarker(c, producer.producerId(), producer.epoch(), commit, LEADER_EPOCH, nowMs);
            }
        });
    }

    /** Connects, migrates the schema, loads the topics. Blocks (the launcher's thread). */
    static PgStorage open(StorageContext context, PgConfig config) {
        PgConnector connector = new PgConnector(config);
        PgPool pool = new PgPool(connector, config.pool());
        try {
            String clusterId = pool.tx(c -> PgSchema.migrate(c, context.clusterId())).join();
            StorageContext resolved = new StorageContext(context.nodeId(), clusterId, context.advertisedHost(),
                    context.advertisedPort(), context.clock());
            PgStorage storage = new PgStorage(resolved, config, pool, connector);
            storage.syncTopics(storage.pool.tx(PgStorage::readTopics).join());
            storage.notifier.start();
            return storage;
        } catch (CompletionException e) {
            pool.close();
            Throwable cause = e.getCause();
            if (cause instanceof StorageException se) {
                throw new StorageException(se.error(), config.describe() + ": " + se.getMessage(), se);
            }
            throw e;
        }
    }

    private record TopicRow(String name, UUID id, int partitions, short rf, Map<String, String> configs) {}

    private static Map<String, TopicRow> readTopics(Connection c) throws SQLException {
        Map<UUID, Map<String, String>> configs = new HashMap<>();
        try (PreparedStatement q = c.prepareStatement("SELECT topic_id, key, value FROM kiri_topic_configs");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) configs.computeIfAbsent(rs.getObject(1, UUID.class), k -> new HashMap<>()).put(rs.getString(2), rs.getString(3));
        }
        Map<String, TopicRow> out = new HashMap<>();
        try (PreparedStatement q = c.prepareStatement("SELECT name, id, partitions, replication_factor FROM kiri_topics");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                UUID id = rs.getObject(2, UUID.class);
                out.put(rs.getString(1), new TopicRow(rs.getString(1), id, rs.getInt(3), rs.getShort(4), configs.getOrDefault(id, Map.of())));
            }
        }
        return out;
    }

    /**
     * Makes the in-memory catalogue what the database holds (on open, and after another broker changed topics):
     * adds new topics, grows partitions, replaces configs, forgets deleted topics (waking their fetches).
     */
    private void syncTopics(Map<String, TopicRow> rows) {
        for (TopicInfo known : topics().stream().map(CatalogTopic::info).toList()) {
            TopicRow row = rows.get(known.name());
            if (row == null || !row.id().equals(known.id())) super.deleteTopic(TopicRef.of(known.name()));
        }
        for (TopicRow r : rows.values()) {
            CatalogTopic<PgPartition> t = topic(r.name());
            if (t == null) {
                restoreTopic(r.name(), r.id(), r.partitions(), r.rf(), r.configs());
                continue;
            }
            if (r.partitions() > t.info().partitionCount()) super.createPartitions(r.name(), r.partitions(), false);
            if (!r.configs().equals(t.info().configs())) {
                List<ConfigOp> ops = new ArrayList<>();
                for (String k : t.info().configs().keySet()) if (!r.configs().containsKey(k)) ops.add(ConfigOp.delete(k));
                r.configs().forEach((k, v) -> ops.add(ConfigOp.set(k, v)));
                super.alterTopicConfigs(r.name(), ops, false);
            }
        }
    }

    /** Re-reads the catalogue (another broker changed a topic); completes once it is in memory. */
    private CompletableFuture<Void> refreshTopics() {
        if (isClosed() || !refreshQueued.compareAndSet(false, true)) return CompletableFuture.completedFuture(null);
        return readAndSync(() -> refreshQueued.set(false)) // a change committed after this read notifies again
                .exceptionally(e -> null); // unreachable: the next notification or lookup retries
    }

    /** Reads the catalogue and applies it; reads again if this broker changed a topic meanwhile. */
    private CompletableFuture<Void> readAndSync(Runnable beforeRead) {
        long before;
        synchronized (catalogLock) {
            before = catalogChanges;
        }
        return pool.tx(c -> {
            beforeRead.run();
            return readTopics(c);
        }).thenCompose(rows -> {
            synchronized (catalogLock) {
                if (catalogChanges == before) {
                    syncTopics(rows);
                    return CompletableFuture.<Void>completedFuture(null);
                }
            }
            return readAndSync(beforeRead);
        });
    }

    /**
     * LISTEN is (again) in place: notifications sent while it was not (PostgreSQL restarting) are lost, so the
     * catalogue is re-read and every loaded partition catches up with what others appended meanwhile.
     */
    private void resync() {
        refreshTopics();
        for (CatalogTopic<PgPartition> t : topics()) {
            for (PgPartition p : t.partitions()) {
                if (p.isLoaded()) p.invalidate();
            }
        }
    }

    /** A notification from another broker's append or truncation (then {@code logStart} >= 0). */
    private void changedElsewhere(UUID topicId, int partition, long nextOffset, long logStart) {
        for (CatalogTopic<PgPartition> t : topics()) {
            if (!t.info().id().equals(topicId)) continue;
            PgPartition p = t.partition(partition);
            if (p == null) continue;
            PartitionOffsets seen = p.offsets();
            if (nextOffset > seen.highWatermark() || logStart > seen.logStartOffset()) p.invalidate();
        }
    }

    // ---- cluster: leases in kiri_brokers, placements computed over the live brokers ---------------------

    /** Joins the cluster (or renews with a new address); completes once the lease is in PostgreSQL. */
    @Override
    public CompletionStage<Void> registerBroker(BrokerInfo broker) {
        if (isClosed()) return closedStage();
        super.registerBroker(broker);
        inCluster = true;
        return cluster.register(broker);
    }

    @Override
    public CompletionStage<List<BrokerInfo>> brokers() {
        if (!inCluster) return super.brokers();
        if (isClosed()) return closedStage();
        return CompletableFuture.completedFuture(cluster.view().current());
    }

    /**
     * Partition {@code i} of a topic is led by the live broker at {@code (hash(topic id) + i) mod live} in node-id
     * order: every broker computes the same from the same view, and a topic's partitions spread evenly. The leader
     * epoch is the cluster epoch, which grows whenever the live set changes. The replicas are the topic's replication
     * factor of live brokers from the leader on (fewer while fewer are live), all in sync: they share one storage.
     */
    @Override
    public PartitionInfo placement(TopicInfo topic, PartitionInfo partition) {
        if (!inCluster) return partition;
        PgCluster.View view = cluster.view();
        List<BrokerInfo> live = view.current();
        int epoch = (int) view.epoch();
        if (live.isEmpty()) return new PartitionInfo(partition.partition(), -1, epoch, List.of(), List.of());
        int first = Math.floorMod(topic.id().hashCode() + partition.partition(), live.size());
        int count = Math.min(Math.max(1, (int) topic.replicationFactor()), live.size());
        List<Integer> replicas;
        if (count == 1) {
            replicas = List.of(live.get(first).nodeId());
        } else {
            Integer[] ids = new Integer[count];
            for (int i = 0; i < count; i++) ids[i] = live.get((first + i) % live.size()).nodeId();
            replicas = List.of(ids);
        }
        return new PartitionInfo(partition.partition(), replicas.getFirst(), epoch, replicas, replicas);
    }

    /** Groups and transactional ids: the live broker at {@code hash(key) mod live}. */
    @Override
    public int coordinator(String key) {
        if (!inCluster) return nodeId();
        List<BrokerInfo> live = cluster.view().current();
        return live.isEmpty() ? -1 : live.get(Math.floorMod(key.hashCode(), live.size())).nodeId();
    }

    @Override
    public String describe() {
        return config.describe() + " (PostgreSQL)";
    }

    @Override
    public CompletionStage<Void> ping() {
        if (isClosed()) return closedStage();
        return pool.tx(c -> {
            c.createStatement().execute("SELECT 1");
            return null;
        });
    }

    // ---- catalogue: PostgreSQL first, then the in-memory view -------------------------------------------

    @Override
    protected PgPartition newPartition(TopicInfo topic, int index) {
        return new PgPartition(new TopicPartition(topic.name(), index), topic.id(), pool, notifier, this::joinTransaction);
    }

    @Override
    protected void onPartitionRemoved(PgPartition partition) {
        partition.remove();
    }

    /**
     * CreateTopics. In a cluster the replication factor is checked against the live brokers (Kafka's
     * INVALID_REPLICATION_FACTOR beyond them); the catalogue, which knows only this broker, then checks the rest.
     */
    @Override
    public CompletionStage<TopicInfo> createTopic(NewTopic request, boolean validateOnly) {
        if (isClosed() || (validateOnly && !inCluster)) return super.createTopic(request, validateOnly);
        CompletionStage<TopicInfo> checked;
        if (inCluster) {
            short rf;
            try {
                rf = Topics.validate(request, cluster.view().current().size()).replicationFactor();
            } catch (StorageException e) {
                return Stages.failed(e);
            }
            checked = super.createTopic(new NewTopic(request.name(), request.partitions(), (short) 1, request.configs()), true)
                    .thenApply(info -> new TopicInfo(info.name(), info.id(), info.partitions(), rf, info.configs()));
        } else {
            checked = super.createTopic(request, true);
        }
        return validateOnly ? checked : checked.thenCompose(this::storeTopic);
    }

    /** Stores a validated new topic, then adds it to the catalogue. */
    private CompletionStage<TopicInfo> storeTopic(TopicInfo info) {
        return pool.tx(c -> {
            try (PreparedStatement t = c.prepareStatement("INSERT INTO kiri_topics VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                t.setString(1, info.name());
                t.setObject(2, info.id());
                t.setInt(3, info.partitionCount());
                t.setShort(4, info.replicationFactor());
                if (t.executeUpdate() == 0) throw Topics.alreadyExists(info.name());
            }
            writeConfigs(c, info.id(), info.configs());
            addPartitions(c, info.id(), 0, info.partitionCount());
            notifier.notifyCatalog(c);
            return info;
        }).thenApply(stored -> {
            synchronized (catalogLock) {
                catalogChanges++;
                return restoreTopic(info.name(), info.id(), info.partitionCount(), info.replicationFactor(), info.configs());
            }
        });
    }

    /** A topic the catalogue lacks may have been created by another broker a moment ago: look before answering. */
    @Override
    public CompletionStage<List<TopicInfo>> describeTopics(Collection<? extends TopicRef> refs) {
        return super.describeTopics(refs).thenCompose(found -> found.size() == refs.size() || isClosed()
                ? CompletableFuture.completedFuture(found)
                : readAndSync(() -> { }).thenCompose(v -> super.describeTopics(refs)));
    }

    @Override
    public CompletionStage<TopicInfo> deleteTopic(TopicRef ref) {
        if (isClosed()) return closedStage();
        return describeTopics(List.of(ref)).thenCompose(found -> {
            if (found.isEmpty()) return super.deleteTopic(ref); // its error
            UUID id = found.getFirst().id();
            return pool.tx(c -> {
                for (String table : List.of("kiri_batches", "kiri_partitions")) {
                    try (PreparedStatement d = c.prepareStatement("DELETE FROM " + table + " WHERE topic_id = ?")) {
                        d.setObject(1, id);
                        d.executeUpdate();
                    }
                }
                try (PreparedStatement d = c.prepareStatement("DELETE FROM kiri_topics WHERE id = ?")) {
                    d.setObject(1, id);
                    d.executeUpdate();
                }
                PgGroups.removeTopic(c, found.getFirst().name());
                PgTransactions.removeTopic(c, found.getFirst().name());
                notifier.notifyCatalog(c);
                return null;
            }).thenCompose(v -> {
                synchronized (catalogLock) {
                    catalogChanges++;
                    return super.deleteTopic(ref);
                }
            });
        });
    }

    @Override
    public CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly) {
        if (validateOnly || isClosed()) return super.createPartitions(topic, totalCount, validateOnly);
        return super.createPartitions(topic, totalCount, true).thenCompose(info -> pool.tx(c -> {
            int before;
            try (PreparedStatement u = c.prepareStatement("SELECT partitions FROM kiri_topics WHERE id = ? FOR UPDATE")) {
                u.setObject(1, info.id());
                try (ResultSet rs = u.executeQuery()) {
                    if (!rs.next()) throw Topics.unknown(TopicRef.of(topic));
                    before = rs.getInt(1);
                }
            }
            try (PreparedStatement u = c.prepareStatement("UPDATE kiri_topics SET partitions = ? WHERE id = ?")) {
                u.setInt(1, totalCount);
                u.setObject(2, info.id());
                u.executeUpdate();
            }
            addPartitions(c, info.id(), before, totalCount);
            notifier.notifyCatalog(c);
            return null;
        })).thenCompose(v -> super.createPartitions(topic, totalCount, false));
    }

    @Override
    public CompletionStage<TopicInfo> alterTopicConfigs(String topic, List<ConfigOp> ops, boolean validateOnly) {
        if (validateOnly || isClosed()) return super.alterTopicConfigs(topic, ops, validateOnly);
        return super.alterTopicConfigs(topic, ops, true).thenCompose(info -> pool.tx(c -> {
            try (PreparedStatement d = c.prepareStatement("DELETE FROM kiri_topic_configs WHERE topic_id = ?")) {
                d.setObject(1, info.id());
                d.executeUpdate();
            }
            writeConfigs(c, info.id(), info.configs());
            notifier.notifyCatalog(c);
            return null;
        })).thenCompose(v -> super.alterTopicConfigs(topic, ops, false));
    }

    private static void writeConfigs(Connection c, UUID id, Map<String, String> configs) throws SQLException {
        if (configs.isEmpty()) return;
        try (PreparedStatement i = c.prepareStatement("INSERT INTO kiri_topic_configs VALUES (?, ?, ?)")) {
            for (var e : configs.entrySet()) {
                i.setObject(1, id);
                i.setString(2, e.getKey());
                i.setString(3, e.getValue());
                i.addBatch();
            }
            i.executeBatch();
        }
    }

    private static void addPartitions(Connection c, UUID id, int from, int to) throws SQLException {
        try (PreparedStatement i = c.prepareStatement("INSERT INTO kiri_partitions (topic_id, partition) VALUES (?, ?)")) {
            for (int p = from; p < to; p++) {
                i.setObject(1, id);
                i.setInt(2, p);
                i.addBatch();
            }
            i.executeBatch();
        }
    }

    // ---- records -----------------------------------------------------------------------------------

    @Override
    public CompletionStage<Void> produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        if (isClosed()) return closedStage();
        CatalogTopic<PgPartition> topic = topic(tp.topic());
        PgPartition partition = topic == null ? null : topic.partition(tp.partition());
        if (partition == null) return Stages.failed(Topics.unknown(tp));
        CompletableFuture<Void> refused = refusal(topic, tp, batch);
        if (refused != null) return refused;
        long appendTime = topic.logAppendTime() ? clock().millis() : -1L;
        boolean transactional = RecordBatch.isTransactional(batch);
        if (transactional && transactionalId == null) {
            return Stages.failed(ErrorCode.INVALID_RECORD, "Transactional batch for " + tp + " without a transactional id");
        }
        // a transactional batch joins its transaction in the database transaction that appends it (joinTransaction)
        return partition.submit(new PgPartition.Append(batch, appendTime, LEADER_EPOCH, transactional ? transactionalId : null,
                new CompletableFuture<>()));
    }

    /** {@link PgPartition.TxnJoiner}: the producer check and the join of {@link TransactionTable#produce}, on the append's connection. */
    private void joinTransaction(Connection c, String transactionalId, TopicPartition tp, MemorySegment batch) throws SQLException {
        long producerId = RecordBatch.producerId(batch);
        short epoch = RecordBatch.producerEpoch(batch);
        long now = clock().millis();
        txns.run(c, transactionalId, now, t -> t.produce(transactionalId, tp, producerId, epoch, now, () -> null), new ArrayList<>());
    }

    /** Never called: transactions are {@link PgTransactions}', which write markers in their own database transaction. */
    @Override
    protected void writeMarker(TopicPartition tp, PgPartition partition, ProducerIdAndEpoch producer, boolean commit) {
        throw new IllegalStateException("markers are written by PgTransactions");
    }

    // ---- committed offsets and groups: PgGroups' rows --------------------------------------------------

    @Override
    public CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets) {
        if (isClosed()) return closedStage();
        long now = clock().millis();
        return pool.tx(c -> {
            PgGroups.commit(c, groupId, offsets, now);
            return null;
        });
    }

    @Override
    public CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId, Collection<TopicPartition> partitions,
                                                                              boolean requireStable) {
        if (isClosed()) return closedStage();
        return pool.tx(c -> {
            if (requireStable) {
                StorageException unstable = PgTransactions.unstableOffsets(c, groupId, partitions);
                if (unstable != null) throw unstable;
            }
            return PgGroups.fetch(c, groupId, partitions);
        });
    }

    @Override
    public CompletionStage<Void> deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        if (isClosed()) return closedStage();
        return pool.tx(c -> {
            PgGroups.deleteOffsets(c, groupId, partitions);
            return null;
        });
    }

    @Override
    public CompletionStage<List<GroupListing>> listGroups() {
        if (isClosed()) return closedStage();
        return pool.tx(PgGroups::list);
    }

    @Override
    public CompletionStage<Optional<GroupState>> group(String groupId) {
        if (isClosed()) return closedStage();
        return pool.tx(c -> PgGroups.group(c, groupId));
    }

    @Override
    public CompletionStage<GroupState> updateGroup(GroupState state) {
        if (isClosed()) return closedStage();
        return pool.tx(c -> PgGroups.update(c, state));
    }

    @Override
    public CompletionStage<Void> deleteGroup(String groupId) {
        if (isClosed()) return closedStage();
        return pool.tx(c -> {
            PgGroups.delete(c, groupId);
            return null;
        });
    }

    // ---- producer ids and transactions: PgTransactions' rows -------------------------------------------

    /**
     * Runs a transaction-table operation on {@code txnId}'s stored state in one database transaction; partitions
     * that got markers catch up once it committed.
     */
    private <T> CompletionStage<T> txn(String txnId, Function<TransactionTable, T> op) {
        if (isClosed()) return closedStage();
        long now = clock().millis();
        List<TopicPartition> marked = new ArrayList<>();
        return pool.tx(c -> {
            marked.clear(); // (the pool does not retry, but stay correct if it ever does)
            return txns.run(c, txnId, now, op, marked);
        }).thenApply(result -> {
            for (TopicPartition tp : marked) {
                PgPartition p = partition(tp);
                if (p != null) p.invalidate();
            }
            return result;
        });
    }

    @Override
    public CompletionStage<ProducerIdAndEpoch> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                              ProducerIdAndEpoch expected) {
        if (isClosed()) return closedStage();
        if (transactionalId == null) {
            long id = producerIds.tryNext();
            if (id >= 0) return CompletableFuture.completedFuture(new ProducerIdAndEpoch(id, (short) 0));
            return pool.tx(c -> new ProducerIdAndEpoch(producerIds.next(c), (short) 0));
        }
        return txn(transactionalId, t -> t.initProducerId(transactionalId, transactionTimeoutMs, expected, clock().millis()));
    }

    @Override
    public CompletionStage<Map<TopicPartition, Short>> addPartitionsToTxn(String transactionalId, ProducerIdAndEpoch producer,
                                                                          Collection<TopicPartition> partitions) {
        return txn(transactionalId, t -> t.addPartitions(transactionalId, producer, partitions, clock().millis()));
    }

    @Override
    public CompletionStage<Void> addOffsetsToTxn(String transactionalId, ProducerIdAndEpoch producer, String groupId) {
        return txn(transactionalId, t -> {
            t.addOffsets(transactionalId, producer, groupId, clock().millis());
            return null;
        });
    }

    @Override
    public CompletionStage<Void> txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                                 List<OffsetCommit> offsets) {
        return txn(transactionalId, t -> {
            t.txnOffsetCommit(transactionalId, producer, groupId, offsets, clock().millis());
            return null;
        });
    }

    /** EndTxn answers once its markers, state and offsets are committed in PostgreSQL (one database transaction). */
    @Override
    public CompletionStage<ProducerIdAndEpoch> endTxn(String transactionalId, ProducerIdAndEpoch producer, boolean commit,
                                                      boolean bumpEpoch) {
        return txn(transactionalId, t -> t.end(transactionalId, producer, commit, bumpEpoch));
    }

    @Override
    public CompletionStage<List<TransactionDescription>> describeTransactions(Collection<String> transactionalIds) {
        if (isClosed()) return closedStage();
        return pool.tx(c -> txns.describe(c, transactionalIds));
    }

    /** Runs {@code body} once the partition is loaded; fails UNKNOWN_TOPIC_OR_PARTITION for a missing one. */
    private <T> CompletionStage<T> whenLoaded(TopicPartition tp, java.util.function.Function<PgPartition, CompletionStage<T>> body) {
        return withPartition(tp, p -> p.isLoaded() ? body.apply(p) : p.ready().thenCompose(v -> body.apply(p)));
    }

    @Override
    public CompletionStage<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, boolean minOneBatch,
                                              IsolationLevel isolation) {
        return whenLoaded(tp, p -> {
            PartitionOffsets offsets = p.offsets();
            StorageException outOfRange = FetchRange.check(tp, offset, offsets);
            if (outOfRange != null) return Stages.failed(outOfRange);
            long end = offsets.fetchableEnd(isolation);
            if (offset >= end) return CompletableFuture.completedFuture(FetchResult.empty(offsets));
            return pool.tx(c -> read(c, p, offsets, offset, end, maxBytes, minOneBatch, isolation));
        });
    }

    private static FetchResult read(Connection c, PgPartition p, PartitionOffsets offsets, long offset, long end, int maxBytes,
                                    boolean minOneBatch, IsolationLevel isolation) throws SQLException {
        List<Records.Region> regions = new ArrayList<>();
        long total = 0;
        long first = -1L;
        long last = -1L;
        long from = offset;
        boolean full = false;
        // The batch containing `offset` is the last one starting at or before it; then batches in order.
        try (PreparedStatement q = c.prepareStatement("SELECT base_offset, last_offset, bytes FROM kiri_batches"
                + " WHERE topic_id = ? AND partition = ? AND base_offset >= coalesce((SELECT max(base_offset) FROM kiri_batches"
                + " WHERE topic_id = ? AND partition = ? AND base_offset <= ?), 0) AND base_offset < ?"
                + " ORDER BY base_offset LIMIT " + FETCH_ROWS)) {
            while (!full) {
                q.setObject(1, p.topicId);
                q.setInt(2, p.tp.partition());
                q.setObject(3, p.topicId);
                q.setInt(4, p.tp.partition());
                q.setLong(5, from);
                q.setLong(6, end);
                int rows = 0;
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        long lastOffset = rs.getLong(2);
                        if (lastOffset < from) continue;
                        byte[] bytes = rs.getBytes(3);
                        if (total + bytes.length > maxBytes && !(regions.isEmpty() && minOneBatch)) {
                            full = true;
                            break;
                        }
                        regions.add(new Records.Memory(MemorySegment.ofArray(bytes).asReadOnly()));
                        total += bytes.length;
                        if (first < 0) first = rs.getLong(1);
                        last = lastOffset + 1;
                        from = last;
                    }
                }
                if (rows < FETCH_ROWS) break;
            }
        }
        List<AbortedTransaction> aborted = isolation == IsolationLevel.READ_COMMITTED && first >= 0
                ? p.abortedTransactions(first, last) : List.of();
        return new FetchResult(offsets.highWatermark(), offsets.lastStableOffset(), offsets.logStartOffset(), regions, aborted, null);
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        if (isClosed()) return closedStage();
        PgPartition p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        if (!p.isLoaded()) {
            p.ready(); // reload (another broker appended): wake at once, the router re-fetches
            return CompletableFuture.completedFuture(null);
        }
        return (isolation == IsolationLevel.READ_COMMITTED ? p.committedWaiters : p.uncommittedWaiters).await(offset);
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        return whenLoaded(tp, p -> CompletableFuture.completedFuture(p.offsets()));
    }

    /**
     * ListOffsets. By timestamp, as Kafka: the first batch (from the log start, below the fetchable end) whose max
     * timestamp reaches it, then the first record inside it that does ({@link RecordTimestamps}, decompressing).
     * MAX_TIMESTAMP: the first record carrying the largest timestamp.
     */
    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        return whenLoaded(tp, p -> {
            PartitionOffsets offsets = p.offsets();
            long end = offsets.fetchableEnd(isolation);
            if (timestamp == OffsetSpec.LATEST) return CompletableFuture.completedFuture(new OffsetAndTimestamp(end, -1L, LEADER_EPOCH));
            if (timestamp == OffsetSpec.EARLIEST || timestamp == OffsetSpec.EARLIEST_LOCAL) {
                return CompletableFuture.completedFuture(new OffsetAndTimestamp(offsets.logStartOffset(), -1L, LEADER_EPOCH));
            }
            if (timestamp == OffsetSpec.LATEST_TIERED) return CompletableFuture.completedFuture(OffsetAndTimestamp.UNKNOWN);
            boolean max = timestamp == OffsetSpec.MAX_TIMESTAMP;
            if (!max && timestamp < 0) {
                return Stages.failed(ErrorCode.INVALID_REQUEST, "Unknown ListOffsets timestamp " + timestamp + " for " + tp);
            }
            // after: batches already looked into (one whose only matching records are below the log start has none)
            String sql = "SELECT base_offset, max_timestamp, bytes, last_offset FROM kiri_batches WHERE topic_id = ? AND partition = ?"
                    + " AND flags & 32 = 0 AND base_offset < ? AND last_offset >= ? AND base_offset > ?"
                    + (max ? " ORDER BY max_timestamp DESC, base_offset LIMIT 1" : " AND max_timestamp >= ? ORDER BY base_offset LIMIT 1");
            return pool.tx(c -> {
                try (PreparedStatement q = c.prepareStatement(sql)) {
                    long after = Long.MIN_VALUE;
                    while (true) {
                        q.setObject(1, p.topicId);
                        q.setInt(2, tp.partition());
                        q.setLong(3, end);
                        q.setLong(4, offsets.logStartOffset());
                        q.setLong(5, after);
                        if (!max) q.setLong(6, timestamp);
                        try (ResultSet rs = q.executeQuery()) {
                            if (!rs.next()) return OffsetAndTimestamp.UNKNOWN;
                            after = rs.getLong(1);
                            long target = max ? rs.getLong(2) : timestamp;
                            RecordTimestamps.Found f = RecordTimestamps.firstAtOrAfter(MemorySegment.ofArray(rs.getBytes(3)),
                                    target, offsets.logStartOffset());
                            if (f != null) return new OffsetAndTimestamp(f.offset(), f.timestamp(), LEADER_EPOCH);
                            if (max) return new OffsetAndTimestamp(rs.getLong(4), rs.getLong(2), LEADER_EPOCH); // as the memory engine
                        }
                    }
                }
            });
        });
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        return whenLoaded(tp, p -> {
            long hwm = p.offsets().highWatermark();
            long before = beforeOffset == -1L ? hwm : beforeOffset;
            if (before < 0 || before > hwm) {
                return Stages.failed(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp + " before offset "
                        + before + ": the high watermark is " + hwm);
            }
            return p.submit(new PgPartition.Truncate(before, new CompletableFuture<>())).thenApply(v -> p.offsets().logStartOffset());
        });
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        return whenLoaded(tp, p -> CompletableFuture.completedFuture(p.activeProducers()));
    }

    // ---- maintenance ---------------------------------------------------------------------------------

    /** Housekeeping answers once what it started is committed: aborts of expired transactions, retention. */
    /** Test hook: whether {@code tp}'s state is loaded (false once another broker's write invalidated it). */
    boolean isLoaded(TopicPartition tp) {
        PgPartition p = partition(tp);
        return p != null && p.isLoaded();
    }

    @Override
    public CompletionStage<Void> maintain(long nowMs) {
        List<CompletableFuture<Void>> started = new ArrayList<>();
        markersOut.set(started);
        CompletionStage<Void> result;
        try {
            result = super.maintain(nowMs);
        } finally {
            markersOut.remove();
        }
        return result.thenCompose(v -> CompletableFuture.allOf(started.toArray(CompletableFuture[]::new)));
    }

    /** Retention ({@link PgRetention}): the log start moves past whole batches from the start; they are deleted. */
    @Override
    protected void maintainRecords(long nowMs) {
        CompletableFuture<Void> expiry = pool.tx(c -> {
            PgGroups.expireOffsets(c, nowMs);
            return PgTransactions.expired(c, nowMs);
        }).thenCompose(expired -> {
            List<CompletableFuture<?>> aborts = new ArrayList<>();
            for (String id : expired) aborts.add(txn(id, t -> t.abortExpired(nowMs)).toCompletableFuture());
            return CompletableFuture.allOf(aborts.toArray(CompletableFuture[]::new));
        });
        List<CompletableFuture<Void>> started = markersOut.get();
        if (started != null) started.add(expiry);
        for (CatalogTopic<PgPartition> topic : topics()) {
            // cleanup.policy=compact alone keeps records (this engine does not compact): no retention by time or size
            boolean deletes = TopicConfigs.listValue(topic.info().configs(), TopicConfigs.CLEANUP_POLICY).contains("delete");
            for (PgPartition p : topic.partitions()) {
                if (!p.isLoaded()) continue;
                p.expireProducers(nowMs, PRODUCER_EXPIRATION_MS);
                if (!deletes || (topic.retentionMs() < 0 && topic.retentionBytes() < 0)) continue;
                long cutoff = topic.retentionMs() < 0 ? Long.MIN_VALUE : nowMs - topic.retentionMs();
                long bytes = topic.retentionBytes();
                CompletableFuture<Void> truncated = pool.tx(c -> PgRetention.keepFrom(c, p.topicId, p.tp.partition(), cutoff, bytes))
                        .thenCompose(keepFrom -> keepFrom > p.offsets().logStartOffset()
                                ? p.submit(new PgPartition.Truncate(keepFrom, new CompletableFuture<>()))
                                : CompletableFuture.<Void>completedFuture(null));
                List<CompletableFuture<Void>> out = markersOut.get();
                if (out != null) out.add(truncated);
            }
        }
    }

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (isClosed()) return closedStage();
        Map<UUID, String> names = new HashMap<>();
        for (CatalogTopic<PgPartition> t : topics()) names.put(t.info().id(), t.info().name());
        return pool.tx(c -> {
            Map<TopicPartition, Long> sizes = new LinkedHashMap<>();
            try (PreparedStatement q = c.prepareStatement("SELECT topic_id, partition, sum(octet_length(bytes)) FROM kiri_batches"
                    + " GROUP BY topic_id, partition ORDER BY 1, 2");
                 ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    String name = names.get(rs.getObject(1, UUID.class));
                    if (name != null) sizes.put(new TopicPartition(name, rs.getInt(2)), rs.getLong(3));
                }
            }
            return sizes;
        });
    }

    @Override
    public void close() {
        if (isClosed()) return;
        super.close();
        cluster.close();
        notifier.close();
        pool.close();
    }
}
