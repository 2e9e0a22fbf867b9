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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.OffsetAndTimestamp;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Stages;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.Topics;
import kiri.storage.kit.CatalogStorage;
import kiri.storage.kit.CatalogTopic;
import kiri.storage.kit.ListOffsets;

/**
 * The durable log engine, built on the storage kit ({@link CatalogStorage}: catalogue, configs, groups, transactions,
 * produce checks, closed state): it adds the per-partition log ({@link PartitionLog}, opened lazily by
 * {@link LazyPartition}) and its metadata files ({@link LogMetadata}). Layout under the root directory:
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
 * Memory changes only once its metadata file is written (the kit rolls back when the write fails), except where a
 * deletion frees space first and its metadata follows, retried by {@link #maintain} (DeleteTopics, DeleteRecords);
 * producer state is rebuilt from the batch headers on open. Opening a partition recovers it ({@link Recovery}).
 *
 * <p>Threads: produce, fetch and reads run in the caller's thread without waiting for the disk: produce
 * writes the batch to the page cache there (or queues it to the {@link Writer} thread), and a sync, when
 * the mode needs one, happens at the caller's {@link #endRound} or on the writer thread; one metadata
 * thread runs every operation that persists a metadata file ({@link #metadata}), so those are serialized
 * and never block callers.
 */
final class LogStorage extends CatalogStorage<LazyPartition> implements MetricSource {
    private static final long PRODUCER_ID_BLOCK = 1000;
    private static final System.Logger LOG = System.getLogger("kiri.storage.log");

    private final Path root;
    private final Path dataDir;
    private final LogMetadata files;
    private final FsyncMode fsync;
    private final boolean preallocate;
    private final String clusterId;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Writer writer;
    private final ExecutorService meta;
    /** The log cleaner (compacted topics); null until the constructor has recovered everything. */
    private volatile Cleaner cleaner;

    // Metadata thread only.
    private long nextProducerId;
    private long producerIdBlockEnd;
    /** Markers written by the transaction table, acknowledged and awaited after its change ({@link #awaitMarkers}). */
    private final List<Writer.Append> pendingMarkers = new ArrayList<>();

    /**
     * How recovery judges what it finds, decided once at open from the clean-shutdown marker and kept for the whole
     * run: partitions opened later, on first use, are judged by it too (see the constructor).
     */
    private final RecoveryPolicy recovery;
    /** The constructor finished: only then may a close mark the shutdown clean. */
    private boolean opened;

    LogStorage(Path root, FsyncMode fsync, boolean preallocate, StorageContext context) {
        this(root, fsync, preallocate, false, context);
    }

    /** @param truncate {@code recover=truncate}: cut damaged logs (logging what is lost) instead of refusing to open */
    LogStorage(Path root, FsyncMode fsync, boolean preallocate, boolean truncate, StorageContext context) {
        this(root, fsync, preallocate, truncate, context, Cleaner.Settings.DEFAULT);
    }

    LogStorage(Path root, FsyncMode fsync, boolean preallocate, boolean truncate, StorageContext context,
            Cleaner.Settings cleaning) {
        LogMetadata files = new LogMetadata(root);
        super(context, files);
        this.files = files;
        this.root = root;
        this.dataDir = root.resolve("data");
        this.fsync = fsync;
        this.preallocate = preallocate;
        AtomicFiles.createDirectories(dataDir);
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
        this.writer = new Writer(fsync, clock(), "kiri-log-writer");
        this.meta = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("kiri-log-meta").daemon(true).unstarted(r));
        try {
            Map<String, Long> cleanEnds = CleanShutdown.ends(root);
            this.recovery = new RecoveryPolicy(cleanEnds != null, truncate,
                    "file:" + root + "?" + RecoveryPolicy.PARAM + "=truncate (see the storage-log README, \"Recovery\")",
                    cleanEnds == null ? Map.of() : cleanEnds);
            this.clusterId = files.clusterId(context.clusterId());
            loadTopics();
            files.loadGroups(groups());
            files.loadTransactions(transactions());
            restoreSecurity(files.loadSecurity());
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
            cleaner = new Cleaner(this::openPartitions, cleaning, clock());
            cleaner.start();
        } catch (RuntimeException e) {
            closeQuietly();
            throw OpenFailure.of(root, e);
        }
        opened = true;
    }

    // ---- opening ----------------------------------------------------------------------------

    /** Loads every topic; opens the partitions that have data (recovery), leaves the others for first use. */
    private void loadTopics() {
        Set<String> dirs = new HashSet<>();
        for (MetaCodec.StoredTopic t : files.loadTopics()) {
            restoreTopic(t.name(), t.id(), t.partitions(), t.replicationFactor(), t.configs()); // first, so that a failed open below closes what it opened
            for (LazyPartition p : topic(t.name()).partitions()) {
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

    private void loadProducerIds() {
        long next = Math.max(files.producerIdsEnd(), transactions().maxProducerId() + 1);
        for (PartitionLog p : openPartitions()) next = Math.max(next, p.maxProducerId() + 1);
        nextProducerId = next;
        producerIdBlockEnd = next; // the first allocation reserves and persists a new block
    }

    /** Partitions with a transaction their transactional id did not record (see {@link kiri.storage.kit.TransactionTable#adopt}). */
    private void adoptOpenTransactions() {
        long now = clock().millis();
        Set<String> adopted = new LinkedHashSet<>();
        for (PartitionLog p : openPartitions()) {
            for (long pid : p.openTransactionProducers()) {
                String id = transactions().adopt(pid, p.tp, now);
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
        for (String id : adopted) files.putTransaction(transactions().snapshot(id));
    }

    private Path partitionDir(UUID topicId, int partition) {
        return dataDir.resolve(KafkaUuid.toString(topicId) + "-" + partition);
    }

    private PartitionLog openLog(TopicPartition tp, Path dir, LogConfig config) {
        return PartitionLog.open(tp, dir, fsync, preallocate, config, clock().millis(), recovery);
    }

    /** Every partition whose log is open (idle unopened ones have no data, producers or segments to look at). */
    private List<PartitionLog> openPartitions() {
        List<PartitionLog> out = new ArrayList<>();
        for (CatalogTopic<LazyPartition> t : topics()) {
            for (LazyPartition p : t.partitions()) {
                PartitionLog l = p.ifOpen();
                if (l != null) out.add(l);
            }
        }
        return out;
    }

    // ---- what the kit asks of an engine ----------------------------------------------------------

    /** A handle only: nothing is opened or created on disk until first use. */
    @Override
    protected LazyPartition newPartition(TopicInfo topic, int index) {
        return new LazyPartition(new TopicPartition(topic.name(), index), partitionDir(topic.id(), index),
                LogConfig.of(topic.configs()), this::openLog);
    }

    /** The topic was deleted (close does not come here): its data goes. */
    @Override
    protected void onPartitionRemoved(LazyPartition partition) {
        partition.delete();
    }

    @Override
    protected void onConfigsChanged(CatalogTopic<LazyPartition> topic) {
        LogConfig config = LogConfig.of(topic.info().configs());
        for (LazyPartition p : topic.partitions()) p.config(config);
    }

    @Override
    protected void writeMarker(TopicPartition tp, LazyPartition partition, ProducerIdAndEpoch producer, boolean commit) {
        Writer.Append marker = partition.log().appendMarker(marker(producer, commit), writer, clock().millis());
        synchronized (pendingMarkers) {
            pendingMarkers.add(marker);
        }
    }

    /** Waits until the markers just written are durable (metadata thread, outside the transaction table's monitors). */
    @Override
    protected void awaitMarkers() {
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

    @Override
    protected long nextProducerId() {
        if (nextProducerId >= producerIdBlockEnd) {
            long end = nextProducerId + PRODUCER_ID_BLOCK;
            files.reserveProducerIds(end); // durable before any id of it is used
            producerIdBlockEnd = end;
        }
        return nextProducerId++;
    }

    /** Runs {@code change} on the metadata thread; its StorageException (or I/O failure) fails the stage. */
    @Override
    protected <T> CompletableFuture<T> metadata(Supplier<T> change) {
        if (isClosed()) return closedStage();
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            meta.execute(() -> {
                try {
                    f.complete(change.get());
                } catch (Throwable t) {
                    f.completeExceptionally(storageError(t));
                }
            });
        } catch (RejectedExecutionException e) {
            return closedStage();
        }
        return f;
    }

    /** Partitions first: retention frees space, and a full disk must not keep them from healing. */
    @Override
    protected void maintainRecords(long nowMs) {
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
    }

    private static Throwable storageError(Throwable t) {
        if (t instanceof CompletionException && t.getCause() != null) t = t.getCause();
        if (t instanceof StorageException) return t;
        if (t instanceof UncheckedIOException || t instanceof IOException) {
            return new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "storage I/O failed: " + t.getMessage(), t);
        }
        return t;
    }

    private MemorySegment marker(ProducerIdAndEpoch producer, boolean commit) {
        MemorySegment m = MemorySegment.ofArray(new byte[ControlBatch.SIZE]);
        ControlBatch.write(m, 0L, LEADER_EPOCH, producer.producerId(), producer.epoch(), commit, 0, clock().millis());
        return m;
    }

    // ---- identity -------------------------------------------------------------------------------

    @Override
    public String clusterId() {
        return clusterId;
    }

    @Override
    public String describe() {
        return "file:" + root + " (durable log, fsync=" + fsync.describe() + (preallocate ? "" : ", preallocate=false") + ")";
    }

    // ---- records -----------------------------------------------------------------------------

    /**
     * Runs {@code body} with the partition's log (opened if this is its first use); a stage failed with
     * UNKNOWN_TOPIC_OR_PARTITION if there is no such partition, KAFKA_STORAGE_ERROR if it cannot be opened.
     */
    private <T> CompletableFuture<T> withLog(TopicPartition tp, Function<PartitionLog, ? extends CompletionStage<T>> body) {
        return withPartition(tp, h -> body.apply(h.log()));
    }

    @Override
    public CompletionStage<Void> produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        return withLog(tp, p -> {
            CompletableFuture<Void> refused = refusal(p.config.maxMessageBytes(), tp, batch);
            if (refused != null) return refused;
            long now = clock().millis();
            try {
                if (RecordBatch.isTransactional(batch)) {
                    // acknowledged outside the transaction's monitor, which the append runs under
                    return writer.acknowledge(appendTransactional(transactionalId, tp, batch, () -> p.assign(batch, writer, now)));
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
        return withLog(tp, p -> {
            try {
                return CompletableFuture.completedFuture(p.fetch(offset, maxBytes, minOneBatch, isolation));
            } catch (IOException | RuntimeException e) {
                return Stages.failed(storageError(e));
            }
        });
    }

    @Override
    public CompletableFuture<Void> awaitData(TopicPartition tp, long offset, IsolationLevel isolation) {
        return withLog(tp, p -> {
            return isolation == IsolationLevel.READ_COMMITTED ? p.committedWaiters.await(offset) : p.waiters.await(offset);
        });
    }

    @Override
    public CompletionStage<PartitionOffsets> offsets(TopicPartition tp) {
        return withLog(tp, p -> {
            return CompletableFuture.completedFuture(p.offsets());
        });
    }

    @Override
    public CompletionStage<OffsetAndTimestamp> listOffset(TopicPartition tp, long timestamp, IsolationLevel isolation) {
        return withLog(tp, p -> ListOffsets.resolve(tp, timestamp, p.offsets(), isolation, p));
    }

    @Override
    public CompletionStage<Long> deleteRecords(TopicPartition tp, long beforeOffset) {
        return withLog(tp, p -> {
            long before = deleteBefore(tp, beforeOffset, p.highWatermark());
            return metadata(() -> {
                if (p.isDeleted()) throw Topics.unknown(tp);
                return p.deleteRecords(before);
            });
        });
    }

    @Override
    public CompletionStage<List<ActiveProducer>> describeProducers(TopicPartition tp) {
        return withLog(tp, p -> CompletableFuture.completedFuture(p.activeProducers()));
    }

    // ---- maintenance and lifecycle -------------------------------------------------------------

    @Override
    public CompletionStage<Map<TopicPartition, Long>> partitionSizes() {
        if (isClosed()) return closedStage();
        Map<TopicPartition, Long> out = new HashMap<>();
        for (CatalogTopic<LazyPartition> t : topics()) {
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
        LazyPartition h = partition(tp);
        return h != null && h.ifOpen() != null;
    }

    /** A partition's log, for tests (recovery facts, segment counts). */
    PartitionLog partitionLog(TopicPartition tp) {
        LazyPartition h = partition(tp);
        return h == null ? null : h.log();
    }

    @Override
    public void close() {
        if (!markClosed()) return;
        if (closeQuietly() && opened) CleanShutdown.mark(root, endOffsets());
    }

    /**
     * Each partition directory's end offset, for the clean-shutdown marker (after the logs are closed): the high
     * watermark of every partition opened this run, and for one never opened the end the last marker recorded, which
     * still holds (nothing wrote to it), so that a log lost before the next open is still noticed then.
     */
    private Map<String, Long> endOffsets() {
        Map<String, Long> ends = new HashMap<>();
        for (CatalogTopic<LazyPartition> t : topics()) {
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
        markClosed();
        Cleaner c = cleaner;
        if (c != null) c.close(); // before the segments close under it
        meta.shutdown();
        try {
            meta.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        writer.stop();
        // the metadata thread is done: one last try for what lags, as housekeeping would
        boolean clean = !opened || retryPending();
        for (CatalogTopic<LazyPartition> t : topics()) {
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
