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
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
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
import java.util.function.Function;
import java.util.function.Supplier;
import kiri.metrics.MetricSource;
import kiri.metrics.MetricWriter;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.ControlBatch;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.ConfigOp;
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
 *   .kiri_cleanshutdown         after a clean close: each partition's end offset ({@link CleanShutdown})
 *   cluster.meta                cluster id
 *   topics/&lt;topic id&gt;.topic    one topic: name, id, partition count, replication factor, config overrides
 *   producer-ids.meta           end of the last reserved block of producer ids
 *   data/&lt;topic id&gt;-&lt;p&gt;/   one partition (created on first use): &lt;base&gt;.log, .index, .timeindex per segment; log-start
 *   groups/&lt;digest&gt;.group     a group's state and committed offsets (the id inside, see {@link IdFiles})
 *   txns/&lt;digest&gt;.txn        a transactional id: producer, state, partitions, pending offsets
 *   security.meta               SCRAM credentials and ACLs ({@link SecurityFile})
 * </pre>
 * Metadata files are replaced atomically ({@link AtomicFiles}), and memory changes only once its file is
 * written (or is rolled back when the write fails), except where a deletion frees space first and its metadata
 * follows, retried by {@link #maintain} (DeleteTopics, DeleteRecords); producer state is rebuilt from the batch
 * headers on open.
 * Every metadata file ends with a CRC32C, and an unreadable one stops the open naming it ({@link MetaFiles}).
 * Partitions open lazily ({@link LazyPartition}); opening one recovers it ({@link Recovery}).
 *
 * <p>Threads: produce, fetch and reads run in the caller's thread without waiting for the disk: produce
 * writes the batch to the page cache there (or queues it to the {@link Writer} thread), and a sync, when
 * the mode needs one, happens at the caller's {@link #endRound} or on the writer thread; one metadata
 * thread runs every operation that persists a metadata file, so those are serialized and never block
 * callers.
 */
final class LogStorage implements Storage, MetricSource {
    private static final int MARKER_LEADER_EPOCH = 0;
    private static final long PRODUCER_ID_BLOCK = 1000;
    private static final System.Logger LOG = System.getLogger("kiri.storage.log");

    private final Path root;
    private final Path dataDir;
    private final Path groupsDir;
    private final Path txnsDir;
    private final TopicStore topicStore;
    /** Which file holds which group / transactional id (metadata thread only). */
    private final IdFiles groupFiles;
    private final IdFiles txnFiles;
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
    /** The log cleaner (compacted topics); null until the constructor has recovered everything. */
    private volatile Cleaner cleaner;
    private final SecurityFile securityFile;

    // Metadata thread only.
    private long nextProducerId;
    private long producerIdBlockEnd;
    /** Markers written by the transaction table, acknowledged and awaited after its change ({@link #awaitMarkers}). */
    private final List<Writer.Append> pendingMarkers = new ArrayList<>();
    private final Set<String> dirtyGroups = new LinkedHashSet<>();
    /**
     * Deleted topics whose {@code topics/<id>.topic} file could not be deleted yet (see {@link #deleteTopic}), by id,
     * with their names; retried by {@link #retryPersistTopics}.
     */
    private final Map<UUID, String> undeletedTopicFiles = new LinkedHashMap<>();

    private volatile boolean closed;
    /**
     * How recovery judges what it finds, decided once at open from the clean-shutdown marker and kept for the whole
     * run: partitions opened later, on first use, are judged by it too (see the constructor).
     */
    private final RecoveryPolicy recovery;
    /** The constructor finished: only then may a close mark the shutdown clean. */
    private boolean opened;

    record LogTopic(TopicInfo info, LazyPartition[] partitions) {}

    LogStorage(Path root, FsyncMode fsync, boolean preallocate, StorageContext context) {
        this(root, fsync, preallocate, false, context);
    }

    /** @param truncate {@code recover=truncate}: cut damaged logs (logging what is lost) instead of refusing to open */
    LogStorage(Path root, FsyncMode fsync, boolean preallocate, boolean truncate, StorageContext context) {
        this(root, fsync, preallocate, truncate, context, Cleaner.Settings.DEFAULT);
    }

    LogStorage(Path root, FsyncMode fsync, boolean preallocate, boolean truncate, StorageContext context,
            Cleaner.Settings cleaning) {
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
        this.groupFiles = new IdFiles(groupsDir, ".group");
        this.txnFiles = new IdFiles(txnsDir, ".txn");
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
                throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "storage directory " + root + " is in use by another broker");
            }
            lock = l;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + root, e);
        }
        this.txns = new TransactionTable(new TxnEngine(), this::allocateProducerId);
        this.writer = new Writer(fsync, clock, "kiri-log-writer");
        this.meta = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("kiri-log-meta").daemon(true).unstarted(r));
        try {
            Map<String, Long> cleanEnds = CleanShutdown.ends(root);
            this.recovery = new RecoveryPolicy(cleanEnds != null, truncate,
                    "file:" + root + "?" + RecoveryPolicy.PARAM + "=truncate (see the storage-log README, \"Recovery\")",
                    cleanEnds == null ? Map.of() : cleanEnds);
            this.clusterId = loadClusterId(context.clusterId());
            this.topicStore = new TopicStore(root);
            loadTopics();
            loadGroupsAndTxns();
            this.securityFile = new SecurityFile(root);
            // The marker goes now, before the first write to any log: a crash from here on must count as unclean.
            // Partitions are opened lazily, so some are not recovered yet; that is safe because the marker's verdict
            // lives on in `recovery` for them. An unopened partition holds nothing recovery could cut or refuse
            // (LazyPartition.needsRecovery opened every one that does: any batch, any stray file, or an end below the
            // one the marker recorded), and nothing writes to it until it is opened under that same policy, so judging
            // it later by the verdict read now is judging the files the marker described. Keeping the marker until
            // every partition is opened instead would let a crash after writes to the opened ones pass for a clean
            // stop, and their torn tails would be refused as damage. The recorded ends of partitions never opened this
            // run are carried into the next marker (close), so a log lost while the broker is down is still noticed.
            CleanShutdown.clear(root);
            writer.start();
            loadProducerIds();
            adoptOpenTransactions();
            cleaner = new Cleaner(this::openPartitions, cleaning, clock);
            cleaner.start();
        } catch (RuntimeException e) {
            closeQuietly();
            throw OpenFailure.of(root, e);
        }
        opened = true;
    }

    // ---- opening ----------------------------------------------------------------------------

    private String loadClusterId(String configured) {
        Path file = root.resolve("cluster.meta");
        String stored = MetaFiles.read(file, MetaCodec::string);
        if (stored != null) {
            if (configured != null && !configured.equals(stored)) {
                throw new StorageException(ErrorCode.INCONSISTENT_CLUSTER_ID, "storage " + root + " belongs to cluster "
                        + stored + ", not the configured " + configured);
            }
            return stored;
        }
        String id = configured != null ? configured : KafkaUuid.toString(KafkaUuid.random());
        AtomicFiles.write(file, MetaCodec.string(id));
        return id;
    }

    /** Loads every topic; opens the partitions that have data (recovery), leaves the others for first use. */
    private void loadTopics() {
        Set<String> dirs = new HashSet<>();
        for (MetaCodec.StoredTopic t : topicStore.load()) {
            TopicInfo info = new TopicInfo(t.name(), t.id(), catalog.partitionInfos(0, t.partitions(), List.of()), t.replicationFactor(),
                    t.configs());
            LazyPartition[] partitions = lazyPartitions(info, 0, new LazyPartition[t.partitions()]);
            catalog.add(new LogTopic(info, partitions)); // first, so that a failed open below closes what it opened
            for (LazyPartition p : partitions) {
                String dir = p.dir.getFileName().toString();
                dirs.add(dir);
                if (LazyPartition.needsRecovery(p.dir, recovery.cleanEnds().getOrDefault(dir, -1L))) p.log();
            }
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
                if (f.getFileName().toString().endsWith(".group")) {
                    GroupTable.Snapshot g = MetaFiles.decode(f, Files.readAllBytes(f), MetaCodec::group);
                    groupFiles.loaded(g.groupId(), f);
                    groups.restore(g);
                } else {
                    Files.deleteIfExists(f); // a temp file of an interrupted write
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load groups from " + groupsDir, e);
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(txnsDir)) {
            for (Path f : entries) {
                if (f.getFileName().toString().endsWith(".txn")) {
                    TransactionTable.Snapshot t = MetaFiles.decode(f, Files.readAllBytes(f), MetaCodec::txn);
                    txnFiles.loaded(t.transactionalId(), f);
                    txns.restore(t);
                } else {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load transactions from " + txnsDir, e);
        }
    }

    private void loadProducerIds() {
        Long stored = MetaFiles.read(root.resolve("producer-ids.meta"), MetaCodec::longValue);
        long next = stored == null ? 0L : stored;
        next = Math.max(next, txns.maxProducerId() + 1);
        for (PartitionLog p : openPartitions()) next = Math.max(next, p.maxProducerId() + 1);
        nextProducerId = next;
        producerIdBlockEnd = next; // the first allocation reserves and persists a new block
    }

    /** Partitions with a transaction their transactional id did not record (see {@link TransactionTable#adopt}). */
    private void adoptOpenTransactions() {
        long now = clock.millis();
        Set<String> adopted = new LinkedHashSet<>();
        for (PartitionLog p : openPartitions()) {
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
        awaitMarkers();
        for (String id : adopted) persistTxn(id);
    }

    private Path partitionDir(UUID topicId, int partition) {
        return dataDir.resolve(KafkaUuid.toString(topicId) + "-" + partition);
    }

    /** Handles for partitions {@code from..} of {@code info} in {@code partitions}; nothing is opened or created on disk. */
    private LazyPartition[] lazyPartitions(TopicInfo info, int from, LazyPartition[] partitions) {
        LogConfig config = LogConfig.of(info.configs());
        for (int i = from; i < partitions.length; i++) {
            partitions[i] = new LazyPartition(new TopicPartition(info.name(), i), partitionDir(info.id(), i), config, this::openLog);
        }
        return partitions;
    }

    private PartitionLog openLog(TopicPartition tp, Path dir, LogConfig config) {
        return PartitionLog.open(tp, dir, fsync, preallocate, config, clock.millis(), recovery);
    }

    /** Every partition whose log is open (idle unopened ones have no data, producers or segments to look at). */
    private List<PartitionLog> openPartitions() {
        List<PartitionLog> out = new ArrayList<>();
        for (LogTopic t : catalog.all()) {
            for (LazyPartition p : t.partitions()) {
                PartitionLog l = p.ifOpen();
                if (l != null) out.add(l);
            }
        }
        return out;
    }

    // ---- security (see SecurityFile) ------------------------------------------------------------

    @Override
    public CompletionStage<kiri.storage.api.SecurityState> security() {
        return CompletableFuture.completedFuture(securityFile.state());
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
            return new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "storage I/O failed: " + t.getMessage(), t);
        }
        return t;
    }

    private static <T> CompletableFuture<T> closedStage() {
        return Stages.failed(ErrorCode.KAFKA_STORAGE_ERROR, "storage is closed");
    }

    private long allocateProducerId() {
        if (nextProducerId >= producerIdBlockEnd) {
            long end = nextProducerId + PRODUCER_ID_BLOCK;
            AtomicFiles.write(root.resolve("producer-ids.meta"), MetaCodec.longValue(end)); // durable before any id of it is used
            producerIdBlockEnd = end;
        }
        return nextProducerId++;
    }

    private MemorySegment marker(ProducerIdAndEpoch producer, boolean commit) {
        MemorySegment m = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(m, 0L, MARKER_LEADER_EPOCH, producer.producerId(), producer.epoch(), commit, 0, clock.millis());
        return m;
    }

    /** Engine side of the transaction table; called on the metadata thread. */
    private final class TxnEngine implements TransactionTable.Engine {
        @Override
        public boolean partitionExists(TopicPartition tp) {
            return handle(tp) != null;
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
        for (Iterator<String> it = dirtyGroups.iterator(); it.hasNext(); ) {
            persistGroup(it.next());
            it.remove();
        }
        for (String id : transactionalIds) persistTxn(id);
    }

    private void persistGroup(String groupId) {
        GroupTable.Snapshot s = groups.snapshot(groupId);
        Path file = groupFiles.file(groupId);
        if (s.isDeleted()) {
            AtomicFiles.delete(file);
            groupFiles.forget(groupId);
        } else {
            AtomicFiles.write(file, MetaCodec.group(s));
        }
    }

    /**
     * Applies {@code change} to one group and persists it; if persisting fails, the group goes back to what it was,
     * so that nobody reads a change a restart would take back.
     */
    private void changeGroup(String groupId, Runnable change) {
        GroupTable.Snapshot before = groups.snapshot(groupId);
        change.run();
        try {
            persistGroup(groupId);
        } catch (RuntimeException e) {
            groups.rollback(before);
            throw e;
        }
    }

    private void persistTxn(String transactionalId) {
        TransactionTable.Snapshot s = txns.snapshot(transactionalId);
        if (s != null) AtomicFiles.write(txnFiles.file(transactionalId), MetaCodec.txn(s));
    }

    /** As {@link #changeGroup}, for a change of one transactional id's record alone (no markers, no offsets). */
    private <T> T changeTxn(String transactionalId, Supplier<T> change) {
        TransactionTable.Snapshot before = txns.snapshot(transactionalId);
        T result = change.get();
        try {
            persistTxn(transactionalId);
        } catch (RuntimeException e) {
            txns.rollback(transactionalId, before);
            throw e;
        }
        return result;
    }

    /** Deletes the files of deleted topics that could not be deleted before ({@link #deleteTopic}). */
    private void retryPersistTopics() {
        UncheckedIOException failed = null;
        for (Iterator<UUID> it = undeletedTopicFiles.keySet().iterator(); it.hasNext(); ) {
            try {
                topicStore.remove(it.next());
                it.remove();
            } catch (UncheckedIOException e) {
                if (failed == null) failed = e;
            }
        }
        if (failed != null) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete the metadata files of " + undeletedTopicFiles.size()
                    + " deleted topics (retrying): " + failed.getMessage() + ": " + failed.getCause());
        }
    }

    /** Writes the group files that changes of other things (a topic deletion, a transaction's offsets) left behind. */
    private void retryPersistGroups() {
        try {
            for (Iterator<String> it = dirtyGroups.iterator(); it.hasNext(); ) {
                persistGroup(it.next());
                it.remove();
            }
        } catch (UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot rewrite a group file in " + groupsDir + " (retrying): " + e.getMessage());
        }
    }

    private static MetaCodec.StoredTopic stored(TopicInfo i) {
        return new MetaCodec.StoredTopic(i.name(), i.id(), i.partitionCount(), i.replicationFactor(), i.configs());
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
            retryPersistTopics();
            if (undeletedTopicFiles.containsValue(info.name())) { // two files of one name would meet at the next open
                throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "topic '" + info.name() + "' is still being deleted: "
                        + "its metadata file could not be deleted yet (retrying)");
            }
            // Only the topic's file: partitions create their directories on first use, so a failure here leaves nothing.
            topicStore.put(stored(info));
            catalog.add(new LogTopic(info, lazyPartitions(info, 0, new LazyPartition[info.partitionCount()])));
            return info;
        });
    }

    @Override
    public CompletionStage<TopicInfo> deleteTopic(TopicRef ref) {
        return onMeta(() -> {
            LogTopic removed = catalog.lookup(ref);
            if (removed == null) throw Topics.unknown(ref);
            // The topic's own file first: once it is gone, a crash leaves only partition directories, which the next
            // open removes. Deleting a file needs no space, but should it fail (an I/O error; btrfs can refuse even
            // unlinks on a full disk) the topic is deleted all the same, its data first, since that is what frees a
            // full disk, and the file is retried right after and then by housekeeping (retryPersistTopics). A crash
            // before it is gone brings the topic back, empty (a partly deleted partition keeps a suffix of its segments,
            // they go oldest first, so no offset is reused).
            UUID id = removed.info().id();
            undeletedTopicFiles.put(id, removed.info().name());
            retryPersistTopics();
            catalog.remove(removed);
            for (LazyPartition p : removed.partitions()) p.delete();
            if (undeletedTopicFiles.containsKey(id)) retryPersistTopics();
            // Group files are rewritten (which needs space) after the data is gone; retried by housekeeping too.
            dirtyGroups.addAll(groups.removeTopic(removed.info().name()));
            retryPersistGroups();
            return removed.info();
        });
    }

    @Override
    public CompletionStage<TopicInfo> createPartitions(String topic, int totalCount, boolean validateOnly) {
        return onMeta(() -> {
            LogTopic current = catalog.existing(topic);
            TopicInfo info = catalog.withPartitions(current, totalCount);
            if (validateOnly) return info;
            topicStore.put(stored(info));
            catalog.publish(new LogTopic(info, lazyPartitions(info, current.partitions().length,
                    Arrays.copyOf(current.partitions(), totalCount))));
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
            topicStore.put(stored(info));
            catalog.publish(new LogTopic(info, current.partitions()));
            LogConfig config = LogConfig.of(info.configs());
            for (LazyPartition p : current.partitions()) p.config(config);
            return info;
        });
    }

    /** The partition's handle, or null if there is no such partition. */
    private LazyPartition handle(TopicPartition tp) {
        LogTopic t = catalog.get(tp.topic());
        if (t == null) return null;
        int p = tp.partition();
        LazyPartition[] ps = t.partitions();
        return p >= 0 && p < ps.length ? ps[p] : null;
    }

    /**
     * Runs {@code body} with the partition's log (opened if this is its first use); a stage failed with
     * UNKNOWN_TOPIC_OR_PARTITION if there is no such partition, KAFKA_STORAGE_ERROR if it cannot be opened.
     */
    private <T, S extends CompletionStage<T>> CompletableFuture<T> withPartition(TopicPartition tp, Function<PartitionLog, S> body) {
        if (closed) return closedStage();
        PartitionLog p;
        try {
            p = partition(tp);
        } catch (StorageException e) {
            return Stages.failed(e);
        }
        if (p == null) return Stages.failed(Topics.unknown(tp));
        return body.apply(p).toCompletableFuture();
    }

    /**
     * The partition's log, opened if this is its first use; null if there is no such partition.
     * @throws StorageException KAFKA_STORAGE_ERROR if it cannot be opened
     */
    private PartitionLog partition(TopicPartition tp) {
        LazyPartition h = handle(tp);
        return h == null ? null : h.log();
    }

    // ---- records -----------------------------------------------------------------------------

    @Override
    public CompletionStage<Void> produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        return withPartition(tp, p -> {
            long size = batch.byteSize();
            if (size < RecordBatch.HEADER_SIZE || RecordBatch.lastOffsetDelta(batch) < 0
                    || RecordBatch.sizeInBytes(batch) != size) {
                return Stages.failed(ErrorCode.CORRUPT_MESSAGE, "Malformed record batch of " + size + " bytes for " + tp);
            }
            int max = p.config.maxMessageBytes();
            if (size > max) {
                return Stages.failed(ErrorCode.MESSAGE_TOO_LARGE, "The record batch size in the append to " + tp + " is "
                        + size + " bytes which exceeds the maximum configured value of " + max + ".");
            }
            if (RecordBatch.isControl(batch)) {
                return Stages.failed(ErrorCode.INVALID_RECORD, "Clients may not write control batches (" + tp + ")");
            }
            long now = clock.millis();
            try {
                if (RecordBatch.isTransactional(batch)) {
                    if (transactionalId == null) {
                        return Stages.failed(ErrorCode.INVALID_RECORD, "Transactional batch for " + tp + " without a transactional id");
                    }
                    // acknowledged outside the transaction's monitor, which the append runs under
                    return writer.acknowledge(txns.produce(transactionalId, tp, RecordBatch.producerId(batch),
                            RecordBatch.producerEpoch(batch), now, () -> p.assign(batch, writer, now)));
                }
                return writer.acknowledge(p.assign(batch, writer, now));
            } catch (StorageException e) {
                return Stages.failed(e);
            }
        });
    }

    @Override
    public void endRound() {
        writer.endRound();
    }

    @Override
    public CompletionStage<FetchResult> fetch(TopicPartition tp, long offset, int maxBytes, boolean minOneBatch,
                                              IsolationLevel isolation) {
        return withPartition(tp, p -> {
            try {
                return CompletableFuture.completedFuture(p.fetch(offset, maxBytes, minOneBatch, isolation));
            } catch (IOException | RuntimeException e) {
                return Stages.failed(storageError(e));
            }
        });
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        return withPartition(tp, p -> {
            return isolation == IsolationLevel.READ_COMMITTED ? p.committedWaiters.await(offset) : p.waiters.await(offset);
        });
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        return withPartition(tp, p -> {
            return CompletableFuture.completedFuture(p.offsets());
        });
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        return withPartition(tp, p -> {
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
            return Stages.failed(ErrorCode.INVALID_REQUEST, "Unknown ListOffsets timestamp " + timestamp + " for " + tp);
        });
    }

    /** A record below the log start offset (DeleteRecords inside a segment) is not there for clients. */
    private static OffsetAndTimestamp atOrAfterStart(OffsetAndTimestamp o, PartitionOffsets offsets) {
        if (o.offset() >= 0 && o.offset() < offsets.logStartOffset()) return new OffsetAndTimestamp(offsets.logStartOffset(), o.timestamp(), 0);
        return o;
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        return withPartition(tp, p -> {
            long hwm = p.highWatermark();
            long before = beforeOffset == -1L ? hwm : beforeOffset;
            if (before < 0 || before > hwm) {
                return Stages.failed(ErrorCode.OFFSET_OUT_OF_RANGE, "Cannot delete records of " + tp + " before offset "
                        + beforeOffset + ": the high watermark is " + hwm);
            }
            return onMeta(() -> {
                if (p.isDeleted()) throw Topics.unknown(tp);
                return p.deleteRecords(before);
            });
        });
    }

    // ---- committed offsets -------------------------------------------------------------------

    @Override
    public CompletionStage<Void> commitOffsets(String groupId, List<OffsetCommit> offsets) {
        return onMeta(() -> {
            changeGroup(groupId, () -> groups.commit(groupId, offsets, clock.millis()));
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
            changeGroup(groupId, () -> groups.deleteOffsets(groupId, partitions));
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
            GroupState[] stored = new GroupState[1];
            changeGroup(state.groupId(), () -> stored[0] = groups.update(state));
            return stored[0];
        });
    }

    @Override
    public CompletionStage<Void> deleteGroup(String groupId) {
        return onMeta(() -> {
            changeGroup(groupId, () -> groups.delete(groupId));
            return null;
        });
    }

    // ---- producers and transactions ----------------------------------------------------------

    @Override
    public CompletionStage<ProducerIdAndEpoch> initProducerId(String transactionalId, int transactionTimeoutMs,
                                                              ProducerIdAndEpoch expected) {
        return onMeta(() -> {
            if (transactionalId == null) return new ProducerIdAndEpoch(allocateProducerId(), (short) 0);
            TransactionTable.Snapshot before = txns.snapshot(transactionalId);
            ProducerIdAndEpoch result = txns.initProducerId(transactionalId, transactionTimeoutMs, expected, clock.millis());
            try {
                persistTxnEffects(List.of(transactionalId));
            } catch (RuntimeException e) {
                txns.rollback(transactionalId, before); // the client retries; the id it was given was never durable
                throw e;
            }
            return result;
        });
    }

    @Override
    public CompletionStage<Map<TopicPartition, Short>> addPartitionsToTxn(String transactionalId, ProducerIdAndEpoch producer,
                                                                          Collection<TopicPartition> partitions) {
        return onMeta(() -> {
            return changeTxn(transactionalId, () -> txns.addPartitions(transactionalId, producer, partitions, clock.millis()));
        });
    }

    @Override
    public CompletionStage<Void> addOffsetsToTxn(String transactionalId, ProducerIdAndEpoch producer, String groupId) {
        return onMeta(() -> {
            return changeTxn(transactionalId, () -> {
                txns.addOffsets(transactionalId, producer, groupId, clock.millis());
                return null;
            });
        });
    }

    @Override
    public CompletionStage<Void> txnOffsetCommit(String transactionalId, ProducerIdAndEpoch producer, String groupId,
                                                 List<OffsetCommit> offsets) {
        return onMeta(() -> {
            return changeTxn(transactionalId, () -> {
                txns.txnOffsetCommit(transactionalId, producer, groupId, offsets, clock.millis());
                return null;
            });
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
        return withPartition(tp, p -> {
            return CompletableFuture.completedFuture(p.activeProducers());
        });
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    @Override
    public CompletionStage<Void> maintain(long nowMs) {
        return onMeta(() -> {
            // Partitions first: retention frees space, and a full disk must not keep them from healing.
            for (PartitionLog p : openPartitions()) {
                if (p.isDeleted()) continue;
                p.applyRetention(nowMs);
                p.retryPersist();
                try {
                    p.heal();
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot reread " + p.tp + " after a failed write: " + e);
                }
            }
            retryPersistTopics();
            retryPersistGroups();
            List<String> aborted = txns.abortExpired(nowMs);
            persistTxnEffects(aborted);
            for (String g : groups.expireOffsets(nowMs)) persistGroup(g);
            return null;
        });
    }

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (closed) return closedStage();
        Map<TopicPartition, Long> out = new HashMap<>();
        for (LogTopic t : catalog.all()) {
            for (LazyPartition p : t.partitions()) {
                PartitionLog l = p.ifOpen();
                out.put(p.tp, l == null ? 0L : l.sizeInBytes()); // unopened: no data (see LazyPartition)
            }
        }
        return CompletableFuture.completedFuture(out);
    }

    /** The log cleaner, for tests and the bench. */
    Cleaner cleaner() {
        return cleaner;
    }

    /** The writer, for tests of group commit. */
    /** The writer's fsync latency (per file forced) and group-commit round size (appends made durable per round). */
    @Override
    public void writeMetrics(MetricWriter w) {
        w.family("kiri_log_fsync_duration_seconds", "histogram", "How long forcing one log file to disk took.");
        writer.fsyncNanos.writeTo(w, "kiri_log_fsync_duration_seconds", 1e9);
        w.family("kiri_log_fsync_round_appends", "histogram", "Appends (batches) made durable by one forcing round (group commit).");
        writer.roundAppends.writeTo(w, "kiri_log_fsync_round_appends", 1);
    }

    Writer writer() {
        return writer;
    }

    /** Whether a partition's log is open, for tests of lazy opening (does not open it). */
    boolean isOpen(TopicPartition tp) {
        LazyPartition h = handle(tp);
        return h != null && h.ifOpen() != null;
    }

    /** A partition's log, for tests (recovery facts, segment counts). */
    PartitionLog partitionLog(TopicPartition tp) {
        return partition(tp);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (closeQuietly() && opened) CleanShutdown.mark(root, endOffsets());
    }

    /**
     * Each partition directory's end offset, for the clean-shutdown marker (after the logs are closed): the high
     * watermark of every partition opened this run, and for one never opened the end the last marker recorded, which
     * still holds (nothing wrote to it), so that a log lost before the next open is still noticed then.
     */
    private Map<String, Long> endOffsets() {
        Map<String, Long> ends = new HashMap<>();
        for (LogTopic t : catalog.all()) {
            for (LazyPartition p : t.partitions()) {
                String dir = p.dir.getFileName().toString();
                PartitionLog l = p.ifOpen();
                Long end = l != null ? Long.valueOf(l.highWatermark()) : recovery.cleanEnds().get(dir);
                if (end != null) ends.put(dir, end);
            }
        }
        return ends;
    }

    /** Closes everything; true if every partition was trimmed, forced and its metadata written, and no metadata lags. */
    private boolean closeQuietly() {
        closed = true;
        Cleaner c = cleaner;
        if (c != null) c.close(); // before the segments close under it
        meta.shutdown();
        try {
            meta.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.stop();
        if (opened) { // the metadata thread is done: one last try for what lags, as housekeeping would
            retryPersistTopics();
            retryPersistGroups();
        }
        boolean clean = undeletedTopicFiles.isEmpty() && dirtyGroups.isEmpty();
        for (LogTopic t : catalog.all()) {
            for (LazyPartition p : t.partitions()) clean &= p.close();
        }
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            // the OS drops the lock with the process anyway
        }
        return clean;
    }
}
