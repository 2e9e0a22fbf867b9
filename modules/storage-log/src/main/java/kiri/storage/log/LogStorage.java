package kiri.storage.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.ControlBatches;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.FetchResult;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.GroupTable;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.RecordBatchHeader;
import kiri.storage.api.Stages;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.storage.api.Topics;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionTable;
import kiri.storage.api.base.TopicCatalog;

/**
 * The durable log engine. Layout under the root directory:
 * <pre>
 *   .lock                       held while open (one broker per directory)
 *   cluster.meta                cluster id
 *   topics.meta                 every topic: name, id, partition count, replication factor, config overrides
 *   producer-ids.meta           end of the last reserved block of producer ids
 *   data/&lt;topic id&gt;-&lt;p&gt;/   one partition: &lt;base&gt;.log, .index, .timeindex per segment; log-start
 *   groups/&lt;hex id&gt;.group     a group's state and committed offsets
 *   txns/&lt;hex id&gt;.txn        a transactional id: producer, state, partitions, pending offsets
 * </pre>
 * Metadata files are replaced atomically ({@link AtomicFiles}); producer state is rebuilt from the
 * batch headers on open.
 *
 * <p>Threads: produce, fetch and reads run in the caller's thread without waiting for the disk: produce
 * writes the batch to the page cache there (or queues it to the {@link Writer} thread), and a sync, when
 * the mode needs one, happens at the caller's {@link #endRound} or on the writer thread; one metadata
 * thread runs every operation that persists a metadata file, so those are serialized and never block
 * callers.
 */
final class LogStorage implements Storage {
    private static final int MARKER_LEADER_EPOCH = 0;
    private static final long PRODUCER_ID_BLOCK = 1000;

    private final Path root;
    private final Path dataDir;
    private final Path groupsDir;
    private final Path txnsDir;
    private final FsyncMode fsync;
    private final boolean preallocate;
    private final StorageContext context;
    private final InstantSource clock;
    private final String clusterId;
    private final FileChannel lockChannel;
    private final FileLock lock;

    /** Changed on the metadata thread only. */
    private final TopicCatalog<LogTopic> catalog;
    private final GroupTable groups = new GroupTable();
    private final TransactionTable txns;
    private final Writer writer;
    private final ExecutorService meta;
    private final SecurityFile securityFile;

    // Metadata thread only.
    private long nextProducerId;
    private long producerIdBlockEnd;
    /** Markers written by the transaction table, acknowledged and awaited after its change ({@link #awaitMarkers}). */
    private final List<Writer.Append> pendingMarkers = new ArrayList<>();
    private final Set<String> dirtyGroups = new LinkedHashSet<>();

    private volatile boolean closed;

    record LogTopic(TopicInfo info, PartitionLog[] partitions) {}

    LogStorage(Path root, FsyncMode fsync, boolean preallocate, StorageContext context) {
        this.root = root;
        this.dataDir = root.resolve("data");
        this.groupsDir = root.resolve("groups");
        this.txnsDir = root.resolve("txns");
        this.fsync = fsync;
        this.preallocate = preallocate;
        this.context = context;
        this.clock = context.clock();
        this.catalog = new TopicCatalog<>(context.nodeId(), context.broker(), LogTopic::info);
        AtomicFiles.createDirectories(root);
        AtomicFiles.createDirectories(dataDir);
        AtomicFiles.createDirectories(groupsDir);
        AtomicFiles.createDirectories(txnsDir);
        try {
            lockChannel = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null;
            }
            if (l == null) {
                lockChannel.close();
                throw new StorageException(ErrorCodes.KAFKA_STORAGE_ERROR, "storage directory " + root + " is in use by another broker");
            }
            lock = l;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + root, e);
        }
        this.txns = new TransactionTable(new TxnEngine(), this::allocateProducerId);
        this.securityFile = new SecurityFile(root);
        this.writer = new Writer(fsync, clock, "kiri-log-writer");
        this.meta = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("kiri-log-meta").daemon(true).unstarted(r));
        try {
            this.clusterId = loadClusterId(context.clusterId());
            loadTopics();
            loadGroupsAndTxns();
            writer.start();
            loadProducerIds();
            adoptOpenTransactions();
        } catch (RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    // ---- opening ----------------------------------------------------------------------------

    private String loadClusterId(String configured) {
        Path file = root.resolve("cluster.meta");
        byte[] stored = AtomicFiles.read(file);
        if (stored != null) {
            String id = MetaCodec.string(stored);
            if (configured != null && !configured.equals(id)) {
                throw new StorageException(ErrorCodes.INCONSISTENT_CLUSTER_ID, "storage " + root + " belongs to cluster "
                        + id + ", not the configured " + configured);
            }
            return id;
        }
        String id = configured != null ? configured : KafkaUuid.toString(KafkaUuid.random());
        AtomicFiles.write(file, MetaCodec.string(id));
        return id;
    }

    private void loadTopics() {
        byte[] stored = AtomicFiles.read(root.resolve("topics.meta"));
        List<MetaCodec.StoredTopic> topics = stored == null ? List.of() : MetaCodec.topics(stored);
        Set<String> dirs = new HashSet<>();
        long now = clock.millis();
        for (MetaCodec.StoredTopic t : topics) {
            TopicInfo info = new TopicInfo(t.name(), t.id(), catalog.partitionInfos(0, t.partitions(), List.of()), t.replicationFactor(),
                    t.configs());
            PartitionLog[] partitions = new PartitionLog[t.partitions()];
            LogConfig config = LogConfig.of(t.configs());
            for (int i = 0; i < partitions.length; i++) {
                Path dir = partitionDir(t.id(), i);
                dirs.add(dir.getFileName().toString());
                partitions[i] = PartitionLog.open(new TopicPartition(t.name(), i), dir, fsync, preallocate, config, now);
            }
            catalog.add(new LogTopic(info, partitions));
        }
        // Directories of topics deleted (or never recorded) before a crash.
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dataDir)) {
            for (Path d : entries) if (!dirs.contains(d.getFileName().toString())) AtomicFiles.deleteRecursively(d);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dataDir, e);
        }
    }

    private void loadGroupsAndTxns() {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(groupsDir)) {
            for (Path f : entries) {
                if (f.getFileName().toString().endsWith(".group")) groups.restore(MetaCodec.group(Files.readAllBytes(f)));
                else Files.deleteIfExists(f); // a temp file of an interrupted write
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load groups from " + groupsDir, e);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(txnsDir)) {
            for (Path f : entries) {
                if (f.getFileName().toString().endsWith(".txn")) txns.restore(MetaCodec.txn(Files.readAllBytes(f)));
                else Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load transactions from " + txnsDir, e);
        }
    }

    private void loadProducerIds() {
        byte[] stored = AtomicFiles.read(root.resolve("producer-ids.meta"));
        long next = stored == null ? 0L : MetaCodec.longValue(stored);
        next = Math.max(next, txns.maxProducerId() + 1);
        for (LogTopic t : catalog.all()) for (PartitionLog p : t.partitions()) next = Math.max(next, p.maxProducerId() + 1);
        nextProducerId = next;
        producerIdBlockEnd = next; // the first allocation reserves and persists a new block
    }

    /** Partitions with a transaction their transactional id did not record (see {@link TransactionTable#adopt}). */
    private void adoptOpenTransactions() {
        long now = clock.millis();
        Set<String> adopted = new LinkedHashSet<>();
        for (LogTopic t : catalog.all()) {
            for (PartitionLog p : t.partitions()) {
                for (long pid : p.openTransactionProducers()) {
                    String id = txns.adopt(pid, p.tp, now);
                    if (id != null) {
                        adopted.add(id);
                        continue;
                    }
                    short epoch = 0;
                    for (ActiveProducer ap : p.activeProducers()) if (ap.producerId() == pid) epoch = ap.producerEpoch();
                    pendingMarkers.add(p.appendMarker(marker(new ProducerIdAndEpoch(pid, epoch), false), writer, now));
                }
            }
        }
        awaitMarkers();
        for (String id : adopted) persistTxn(id);
    }

    private Path partitionDir(UUID topicId, int partition) {
        return dataDir.resolve(KafkaUuid.toString(topicId) + "-" + partition);
    }

    // ---- security (see SecurityFile) ------------------------------------------------------------

    @Override
    public CompletionStage<kiri.storage.api.SecurityState> security() {
        return onMeta(securityFile::read);
    }

    @Override
    public CompletionStage<Void> saveSecurity(kiri.storage.api.SecurityState state) {
        return onMeta(() -> {
            securityFile.write(state);
            return null;
        });
    }

    // ---- plumbing ----------------------------------------------------------------------------

    /** Runs {@code body} on the metadata thread; its StorageException (or I/O failure) fails the stage. */
    private <T> CompletableFuture<T> onMeta(Supplier<T> body) {
        if (closed) return closedStage();
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            meta.execute(() -> {
                try {
                    f.complete(body.get());
                } catch (Throwable t) {
                    f.completeExceptionally(storageError(t));
                }
            });
        } catch (RejectedExecutionException e) {
            return closedStage();
        }
        return f;
    }

    private static Throwable storageError(Throwable t) {
        if (t instanceof CompletionException && t.getCause() != null) t = t.getCause();
        if (t instanceof StorageException) return t;
        if (t instanceof UncheckedIOException || t instanceof IOException) {
            return new StorageException(ErrorCodes.KAFKA_STORAGE_ERROR, "storage I/O failed: " + t.getMessage(), t);
        }
        return t;
    }

    private static <T> CompletableFuture<T> closedStage() {
        return Stages.failed(ErrorCodes.KAFKA_STORAGE_ERROR, "storage is closed");
    }

    private long allocateProducerId() {
        if (nextProducerId >= producerIdBlockEnd) {
            producerIdBlockEnd = nextProducerId + PRODUCER_ID_BLOCK;
            AtomicFiles.write(root.resolve("producer-ids.meta"), MetaCodec.longValue(producerIdBlockEnd));
        }
        return nextProducerId++;
    }

    private MemorySegment marker(ProducerIdAndEpoch producer, boolean commit) {
        MemorySegment m = MemorySegment.ofArray(new byte[ControlBatches.SIZE]);
        ControlBatches.write(m, 0L, MARKER_LEADER_EPOCH, producer.producerId(), producer.epoch(), commit, 0, clock.millis());
        return m;
    }

    /** Engine side of the transaction table; called on the metadata thread. */
    private final class TxnEngine implements TransactionTable.Engine {
        @Override
        public boolean partitionExists(TopicPartition tp) {
            return partition(tp) != null;
        }

        @Override
        public void writeMarker(TopicPartition tp, ProducerIdAndEpoch producer, boolean commit) {
            PartitionLog p = partition(tp);
            if (p == null) return;
            Writer.Append marker = p.appendMarker(marker(producer, commit), writer, clock.millis());
            synchronized (pendingMarkers) {
                pendingMarkers.add(marker);
            }
        }

        @Override
        public void commitOffsets(String groupId, List<OffsetCommit> offsets) {
            groups.commit(groupId, offsets, clock.millis());
            dirtyGroups.add(groupId);
        }
    }

    /** Waits until the markers just written are durable (metadata thread, outside the transaction table's monitors). */
    private void awaitMarkers() {
        List<Writer.Append> markers;
        synchronized (pendingMarkers) {
            markers = new ArrayList<>(pendingMarkers);
            pendingMarkers.clear();
        }
        // every marker acknowledged (published, without fsync) before any is awaited: one that failed must not
        // leave the others' partitions holding their last stable offset at the transaction's start
        List<CompletableFuture<Void>> acknowledged = new ArrayList<>();
        for (Writer.Append m : markers) acknowledged.add(writer.acknowledge(m));
        for (CompletableFuture<Void> f : acknowledged) f.join();
    }

    /** After a transaction-table change: markers durable first, then the offsets it committed, then its own record. */
    private void persistTxnEffects(Collection<String> transactionalIds) {
        awaitMarkers();
        for (String g : dirtyGroups) persistGroup(g);
        dirtyGroups.clear();
        for (String id : transactionalIds) persistTxn(id);
    }

    private void persistGroup(String groupId) {
        GroupTable.Snapshot s = groups.snapshot(groupId);
        Path file = groupsDir.resolve(AtomicFiles.encodeName(groupId) + ".group");
        if (s.isDeleted()) AtomicFiles.delete(file);
        else AtomicFiles.write(file, MetaCodec.group(s));
    }

    private void persistTxn(String transactionalId) {
        TransactionTable.Snapshot s = txns.snapshot(transactionalId);
        if (s != null) AtomicFiles.write(txnsDir.resolve(AtomicFiles.encodeName(transactionalId) + ".txn"), MetaCodec.txn(s));
    }

    private void persistTopics() {
        List<MetaCodec.StoredTopic> list = new ArrayList<>();
        for (TopicInfo i : catalog.list()) {
            list.add(new MetaCodec.StoredTopic(i.name(), i.id(), i.partitionCount(), i.replicationFactor(), i.configs()));
        }
        AtomicFiles.write(root.resolve("topics.meta"), MetaCodec.topics(list));
    }

    // ---- identity and cluster ---------------------------------------------------------------

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public int nodeId() {
        return context.nodeId();
    }

    @Override
    public String describe() {
        return "file:" + root + " (durable log, fsync=" + fsync.describe() + (preallocate ? "" : ", preallocate=false") + ")";
    }

    @Override
    public CompletionStage<Void> registerBroker(BrokerInfo broker) {
        if (closed) return closedStage();
        catalog.registerBroker(broker);
        return Stages.DONE;
    }

    @Override
    public CompletionStage<List<BrokerInfo>> brokers() {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(catalog.brokers());
    }

    @Override
    public CompletionStage<Void> ping() {
        return closed ? closedStage() : Stages.DONE;
    }

    // ---- topics ----------------------------------------------------------------------------

    @Override
    public CompletionStage<TopicInfo> createTopic(NewTopic request, boolean validateOnly) {
        return onMeta(() -> {
            TopicInfo info = catalog.newTopic(request);
            if (validateOnly) return info;
            LogTopic t = new LogTopic(info, openPartitions(info, 0, new PartitionLog[info.partitionCount()]));
            catalog.add(t);
            try {
                persistTopics();
            } catch (RuntimeException e) {
                catalog.remove(t);
                for (PartitionLog p : t.partitions()) p.delete();
                throw e;
            }
            return info;
        });
    }

    private PartitionLog[] openPartitions(TopicInfo info, int from, PartitionLog[] partitions) {
        LogConfig config = LogConfig.of(info.configs());
        long now = clock.millis();
        for (int i = from; i < partitions.length; i++) {
            partitions[i] = PartitionLog.open(new TopicPartition(info.name(), i), partitionDir(info.id(), i), fsync, preallocate, config, now);
        }
        return partitions;
    }

    @Override
    public CompletionStage<TopicInfo> deleteTopic(TopicRef ref) {
        return onMeta(() -> {
            LogTopic removed = catalog.remove(ref);
            persistTopics();
            for (PartitionLog p : removed.partitions()) p.delete();
            for (String g : groups.removeTopic(removed.info().name())) persistGroup(g);
            return removed.info();
        });
    }

    @Override
    public CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly) {
        return onMeta(() -> {
            LogTopic current = catalog.existing(topic);
            TopicInfo info = catalog.withPartitions(current, totalCount);
            if (validateOnly) return info;
            PartitionLog[] partitions = openPartitions(info, current.partitions().length,
                    java.util.Arrays.copyOf(current.partitions(), totalCount));
            catalog.publish(new LogTopic(info, partitions));
            persistTopics();
            return info;
        });
    }

    @Override
    public CompletionStage<List<TopicInfo>> listTopics() {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(catalog.list());
    }

    @Override
    public CompletionStage<List<TopicInfo>> describeTopics(Collection<? extends TopicRef> refs) {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(catalog.describe(refs));
    }

    @Override
    public CompletionStage<TopicInfo> alterTopicConfigs(String topic, List<ConfigOp> ops, boolean validateOnly) {
        return onMeta(() -> {
            LogTopic current = catalog.existing(topic);
            TopicInfo info = catalog.withConfigs(current, ops);
            if (validateOnly) return info;
            catalog.publish(new LogTopic(info, current.partitions()));
            persistTopics();
            LogConfig config = LogConfig.of(info.configs());
            for (PartitionLog p : current.partitions()) p.config = config;
            return info;
        });
    }

    private PartitionLog partition(TopicPartition tp) {
        LogTopic t = catalog.get(tp.topic());
        if (t == null) return null;
        int p = tp.partition();
        PartitionLog[] ps = t.partitions();
        return p >= 0 && p < ps.length ? ps[p] : null;
    }

    // ---- records -----------------------------------------------------------------------------

    @Override
    public CompletionStage<Void> produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        if (closed) return closedStage();
        PartitionLog p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        long size = batch.byteSize();
        if (size < RecordBatchHeader.HEADER_SIZE || RecordBatchHeader.lastOffsetDelta(batch) < 0
                || RecordBatchHeader.sizeInBytes(batch) != size) {
            return Stages.failed(ErrorCodes.CORRUPT_MESSAGE, "Malformed record batch of " + size + " bytes for " + tp);
        }
        int max = p.config.maxMessageBytes();
        if (size > max) {
            return Stages.failed(ErrorCodes.MESSAGE_TOO_LARGE, "The record batch size in the append to " + tp + " is "
                    + size + " bytes which exceeds the maximum configured value of " + max + ".");
        }
        if (RecordBatchHeader.isControl(batch)) {
            return Stages.failed(ErrorCodes.INVALID_RECORD, "Clients may not write control batches (" + tp + ")");
        }
        long now = clock.millis();
        try {
            if (RecordBatchHeader.isTransactional(batch)) {
                if (transactionalId == null) {
                    return Stages.failed(ErrorCodes.INVALID_RECORD, "Transactional batch for " + tp + " without a transactional id");
                }
                // acknowledged outside the transaction's monitor, which the append runs under
                return writer.acknowledge(txns.produce(transactionalId, tp, RecordBatchHeader.producerId(batch),
                        RecordBatchHeader.producerEpoch(batch), now, () -> p.assign(batch, writer, now)));
            }
            return writer.acknowledge(p.assign(batch, writer, now));
        } catch (StorageException e) {
            return Stages.failed(e);
        }
    }

    @Override
    public void endRound() {
        writer.endRound();
    }

    @Override
    public CompletionStage<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, boolean minOneBatch,
                                              IsolationLevel isolation) {
        if (closed) return closedStage();
        PartitionLog p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        try {
            return CompletableFuture.completedFuture(p.fetch(offset, maxBytes, minOneBatch, isolation));
        } catch (IOException | RuntimeException e) {
            return Stages.failed(storageError(e));
        }
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        if (closed) return closedStage();
        PartitionLog p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        return isolation == IsolationLevel.READ_COMMITTED ? p.committedWaiters.await(offset) : p.waiters.await(offset);
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        if (closed) return closedStage();
        PartitionLog p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(p.offsets());
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        if (closed) return closedStage();
        PartitionLog p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        PartitionOffsets offsets = p.offsets();
        long end = offsets.fetchableEnd(isolation);
        try {
            if (timestamp == OffsetSpec.LATEST) return CompletableFuture.completedFuture(new OffsetAndTimestamp(end, -1L, 0));
            if (timestamp == OffsetSpec.EARLIEST || timestamp == OffsetSpec.EARLIEST_LOCAL) {
                return CompletableFuture.completedFuture(new OffsetAndTimestamp(offsets.logStartOffset(), -1L, 0));
            }
            if (timestamp == OffsetSpec.LATEST_TIERED) return CompletableFuture.completedFuture(OffsetAndTimestamp.UNKNOWN);
            if (timestamp == OffsetSpec.MAX_TIMESTAMP) return CompletableFuture.completedFuture(atOrAfterStart(p.maxTimestamp(end), offsets));
            if (timestamp >= 0) return CompletableFuture.completedFuture(atOrAfterStart(p.offsetForTimestamp(timestamp, end), offsets));
        } catch (IOException | RuntimeException e) {
            return Stages.failed(storageError(e));
        }
        return Stages.failed(ErrorCodes.INVALID_REQUEST, "Unknown ListOffsets timestamp " + timestamp + " for " + tp);
    }

    /** A record below the log start offset (DeleteRecords inside a segment) is not there for clients. */
    private static OffsetAndTimestamp atOrAfterStart(OffsetAndTimestamp o, PartitionOffsets offsets) {
        if (o.offset() >= 0 && o.offset() < offsets.logStartOffset()) return new OffsetAndTimestamp(offsets.logStartOffset(), o.timestamp(), 0);
        return o;
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        if (closed) return closedStage();
        PartitionLog p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        long hwm = p.highWatermark();
        long before = beforeOffset == -1L ? hwm : beforeOffset;
        if (before < 0 || before > hwm) {
            return Stages.failed(ErrorCodes.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp + " before offset "
                    + beforeOffset + ": the high watermark is " + hwm);
        }
        return onMeta(() -> {
            if (p.isDeleted()) throw Topics.unknown(tp);
            return p.deleteRecords(before);
        });
    }

    // ---- committed offsets -------------------------------------------------------------------

    @Override
    public CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets) {
        return onMeta(() -> {
            groups.commit(groupId, offsets, clock.millis());
            persistGroup(groupId);
            return null;
        });
    }

    @Override
    public CompletionStage<Map<TopicPartition, CommittedOffset>> fetchOffsets(String groupId, Collection<TopicPartition> partitions,
                                                                              boolean requireStable) {
        if (closed) return closedStage();
        if (requireStable) {
            StorageException unstable = txns.unstableOffsets(groupId, partitions);
            if (unstable != null) return Stages.failed(unstable);
        }
        return CompletableFuture.completedFuture(groups.fetch(groupId, partitions));
    }

    @Override
    public CompletionStage<Void> deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        return onMeta(() -> {
            groups.deleteOffsets(groupId, partitions);
            persistGroup(groupId);
            return null;
        });
    }

    // ---- consumer groups ---------------------------------------------------------------------

    @Override
    public CompletionStage<List<GroupListing>> listGroups() {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(groups.list());
    }

    @Override
    public CompletionStage<Optional<GroupState>> group(String groupId) {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(groups.group(groupId));
    }

    @Override
    public CompletionStage<GroupState> updateGroup(GroupState state) {
        return onMeta(() -> {
            GroupState stored = groups.update(state);
            persistGroup(state.groupId());
            return stored;
        });
    }

    @Override
    public CompletionStage<Void> deleteGroup(String groupId) {
        return onMeta(() -> {
            groups.delete(groupId);
            persistGroup(groupId);
            return null;
        });
    }

    // ---- producers and transactions ----------------------------------------------------------

    @Override
    public CompletionStage<ProducerIdAndEpoch> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                              ProducerIdAndEpoch expected) {
        return onMeta(() -> {
            if (transactionalId == null) return new ProducerIdAndEpoch(allocateProducerId(), (short) 0);
            ProducerIdAndEpoch result = txns.initProducerId(transactionalId, transactionTimeoutMs, expected, clock.millis());
            persistTxnEffects(List.of(transactionalId));
            return result;
        });
    }

    @Override
    public CompletionStage<Map<TopicPartition, Short>> addPartitionsToTxn(String transactionalId, ProducerIdAndEpoch producer,
                                                                          Collection<TopicPartition> partitions) {
        return onMeta(() -> {
            Map<TopicPartition, Short> errors = txns.addPartitions(transactionalId, producer, partitions, clock.millis());
            if (errors.isEmpty()) persistTxn(transactionalId);
            return errors;
        });
    }

    @Override
    public CompletionStage<Void> addOffsetsToTxn(String transactionalId, ProducerIdAndEpoch producer, String groupId) {
        return onMeta(() -> {
            txns.addOffsets(transactionalId, producer, groupId, clock.millis());
            persistTxn(transactionalId);
            return null;
        });
    }

    @Override
    public CompletionStage<Void> txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                                 List<OffsetCommit> offsets) {
        return onMeta(() -> {
            txns.txnOffsetCommit(transactionalId, producer, groupId, offsets, clock.millis());
            persistTxn(transactionalId);
            return null;
        });
    }

    @Override
    public CompletionStage<ProducerIdAndEpoch> endTxn(String transactionalId, ProducerIdAndEpoch producer, boolean commit,
                                                      boolean bumpEpoch) {
        return onMeta(() -> {
            ProducerIdAndEpoch next = txns.end(transactionalId, producer, commit, bumpEpoch);
            persistTxnEffects(List.of(transactionalId));
            return next;
        });
    }

    @Override
    public CompletionStage<List<TransactionDescription>> describeTransactions(Collection<String> transactionalIds) {
        if (closed) return closedStage();
        return CompletableFuture.completedFuture(txns.describe(transactionalIds));
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        if (closed) return closedStage();
        PartitionLog p = partition(tp);
        if (p == null) return Stages.failed(Topics.unknown(tp));
        return CompletableFuture.completedFuture(p.activeProducers());
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    @Override
    public CompletionStage<Void> maintain(long nowMs) {
        return onMeta(() -> {
            List<String> aborted = txns.abortExpired(nowMs);
            persistTxnEffects(aborted);
            for (String g : groups.expireOffsets(nowMs)) persistGroup(g);
            for (LogTopic t : catalog.all()) {
                for (PartitionLog p : t.partitions()) {
                    if (!p.isDeleted()) p.applyRetention(nowMs);
                }
            }
            return null;
        });
    }

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (closed) return closedStage();
        Map<TopicPartition, Long> out = new HashMap<>();
        for (LogTopic t : catalog.all()) for (PartitionLog p : t.partitions()) out.put(p.tp, p.sizeInBytes());
        return CompletableFuture.completedFuture(out);
    }

    /** The writer, for tests of group commit. */
    Writer writer() {
        return writer;
    }

    /** A partition's log, for tests (recovery facts, segment counts). */
    PartitionLog partitionLog(TopicPartition tp) {
        return partition(tp);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        closeQuietly();
    }

    private void closeQuietly() {
        closed = true;
        meta.shutdown();
        try {
            meta.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.stop();
        for (LogTopic t : catalog.all()) {
            for (PartitionLog p : t.partitions()) {
                p.close();
            }
        }
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            // the OS drops the lock with the process anyway
        }
    }
}
