package kiri.storage.postgres;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.ErrorCode;
import kiri.protocol.record.ControlBatch;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.kit.DataWaiters;
import kiri.storage.kit.PartitionProducerState;

/**
 * One partition of the postgres engine. The batches live in {@code kiri_batches}; this object keeps what
 * the broker answers without a query (high watermark, last stable offset, log start, producer state),
 * loaded from the database on first use and again after any failed write (so a write whose commit is in
 * doubt is re-read, and a retry is recognised as a duplicate).
 *
 * <p>Writes (appends, DeleteRecords, retention) are jobs on a queue that one pool thread at a time
 * drains: consecutive appends share one database transaction (group commit), which takes the
 * offsets with {@code UPDATE kiri_partitions SET next_offset = next_offset + n ... RETURNING}; if the
 * returned range is not where this broker expected (another broker appended) the group fails retriably
 * and the partition is reloaded. Producer state and offsets are read under this object's monitor.
 */
final class PgPartition {
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    /** A write, completed after its transaction. */
    sealed interface Job {
        CompletableFuture<Void> done();
    }

    /** A batch to append; {@code transactionalId} is null unless the batch is transactional. */
    record Append(MemorySegment batch, long appendTimeMs, int leaderEpoch, String transactionalId, CompletableFuture<Void> done)
            implements Job {}

    /**
     * Checks a transactional batch's producer and joins the partition to its transaction, on the append's connection
     * (see {@link PgTransactions}), so that the check, the join and the append commit together: an end of that
     * transaction (EndTxn, a timeout, a fencing InitProducerId on any broker) is wholly before or wholly after them,
     * never between (its marker would precede a batch of the transaction it ended).
     */
    @FunctionalInterface
    interface TxnJoiner {
        /** @throws kiri.storage.api.StorageException to refuse this batch alone */
        void join(Connection c, String transactionalId, TopicPartition tp, MemorySegment batch) throws SQLException;
    }

    /** Moves the log start offset to {@code offset} (never back) and deletes the batches wholly below it. */
    record Truncate(long offset, CompletableFuture<Void> done) implements Job {}

    /** Nothing to write: completes once the partition is loaded. */
    record Load(CompletableFuture<Void> done) implements Job {}

    final TopicPartition tp;
    final UUID topicId;
    private final PgPool pool;
    private final PgNotifier notifier;
    private final TxnJoiner joiner;
    private final ConcurrentLinkedQueue<Job> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();

    private PartitionProducerState producers = new PartitionProducerState(); // guarded by this
    /**
     * Bumped by every reason to reload (another broker appended, a write failed); the state is loaded while
     * {@link #loadedAt} equals it. A load records the generation it began in, so an invalidation that arrives
     * while a load runs is not lost: that load may have read the database before the other broker's commit.
     */
    private final AtomicLong generation = new AtomicLong();
    private volatile long loadedAt = -1L;
    /**
     * Whether the state up to {@link #highWatermark} matches the database (false after a failed write, whose
     * commit is in doubt): then a reload only reads the batches others appended after it.
     */
    private volatile boolean consistent;
    private volatile boolean removed;
    private volatile long highWatermark;
    private volatile long lastStable;
    private volatile long logStart;

    final DataWaiters uncommittedWaiters = new DataWaiters(() -> highWatermark);
    final DataWaiters committedWaiters = new DataWaiters(() -> lastStable);

    PgPartition(TopicPartition tp, UUID topicId, PgPool pool, PgNotifier notifier, TxnJoiner joiner) {
        this.tp = tp;
        this.topicId = topicId;
        this.pool = pool;
        this.notifier = notifier;
        this.joiner = joiner;
    }

    boolean isLoaded() {
        return loadedAt == generation.get();
    }

    PartitionOffsets offsets() {
        long ls = logStart;
        long hwm = highWatermark;
        return new PartitionOffsets(ls, Math.max(ls, Math.min(lastStable, hwm)), hwm);
    }

    /** Completes once the in-memory state is loaded (at once if it is). */
    CompletableFuture<Void> ready() {
        return isLoaded() ? CompletableFuture.completedFuture(null) : submit(new Load(new CompletableFuture<>()));
    }

    /** Queues a write and makes sure a pool thread drains the queue. */
    CompletableFuture<Void> submit(Job job) {
        if (removed) {
            job.done().completeExceptionally(new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Partition " + tp + " was deleted"));
            return job.done();
        }
        queue.add(job);
        schedule();
        return job.done();
    }

    private void schedule() {
        if (!queue.isEmpty() && draining.compareAndSet(false, true)) {
            pool.tx(this::drain).whenComplete((v, e) -> {
                // no connection (PostgreSQL away): the drain did not run, and the jobs it would have taken fail now,
                // retriably, instead of waiting for the server; jobs that came during a failed drain fail with it
                if (e != null) failQueued(e instanceof java.util.concurrent.CompletionException ce ? ce.getCause() : e);
                draining.set(false);
                schedule(); // jobs queued while the last drain committed
            });
        }
    }

    private void failQueued(Throwable failure) {
        for (Job j; (j = queue.poll()) != null; ) j.done().completeExceptionally(failure);
    }

    /** Another broker appended: our view is stale; reload it now and wake the long polls it satisfies. */
    void invalidate() {
        generation.incrementAndGet();
        ready().whenComplete((v, e) -> {
            if (e == null) {
                signal();
            } else { // could not reload: let the waiters re-fetch and meet the error
                uncommittedWaiters.wakeAll();
                committedWaiters.wakeAll();
            }
        });
    }

    // ---- the drain (one pool thread at a time) ------------------------------------------------------

    private Void drain(Connection c) throws SQLException {
        List<Job> jobs = new ArrayList<>();
        for (Job j; (j = queue.poll()) != null; ) jobs.add(j);
        try {
            if (!isLoaded()) load(c);
            int i = 0;
            while (i < jobs.size()) {
                int end = i;
                while (end < jobs.size() && jobs.get(end) instanceof Append) end++;
                if (end > i) {
                    appendGroup(c, jobs.subList(i, end));
                    i = end;
                } else {
                    Job j = jobs.get(i++);
                    if (j instanceof Truncate t) truncate(c, t.offset());
                    c.commit();
                    j.done().complete(null);
                }
            }
        } catch (SQLException | RuntimeException e) {
            generation.incrementAndGet();
            consistent = false;
            RuntimeException failure = e instanceof SQLException s ? PgPool.failure(s) : (RuntimeException) e;
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the pool discards the connection
            }
            for (Job j : jobs) j.done().completeExceptionally(failure); // (no effect on those already refused)
            if (e instanceof SQLException s) throw s;
        }
        return null;
    }

    private void load(Connection c) throws SQLException {
        long loading = generation.get(); // before reading: a later invalidation makes this load stale
        long next;
        long start;
        try (PreparedStatement q = c.prepareStatement(
                "SELECT next_offset, log_start_offset FROM kiri_partitions WHERE topic_id = ? AND partition = ?")) {
            q.setObject(1, topicId);
            q.setInt(2, tp.partition());
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    removed = true;
                    throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Partition " + tp + " is not in the database");
                }
                next = rs.getLong(1);
                start = rs.getLong(2);
            }
        }
        // Producer state from the stored headers (whole batches only for markers, whose body says commit or abort);
        // when the state is consistent and the log start did not move, only what others appended since.
        boolean incremental = consistent && start == logStart && next >= highWatermark;
        long from = incremental ? highWatermark : 0L;
        List<byte[]> headers = new ArrayList<>();
        List<Long> bases = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement("SELECT base_offset, CASE WHEN flags & 32 <> 0 THEN bytes"
                + " ELSE substring(bytes FROM 1 FOR 61) END FROM kiri_batches WHERE topic_id = ? AND partition = ?"
                + " AND producer_id >= 0 AND base_offset >= ? AND base_offset < ? ORDER BY base_offset")) {
            q.setFetchSize(1000);
            q.setObject(1, topicId);
            q.setInt(2, tp.partition());
            q.setLong(3, from);
            q.setLong(4, next);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    bases.add(rs.getLong(1));
                    headers.add(rs.getBytes(2));
                }
            }
        }
        synchronized (this) {
            PartitionProducerState state = incremental ? producers : new PartitionProducerState();
            for (int i = 0; i < headers.size(); i++) state.onAppend(MemorySegment.ofArray(headers.get(i)), bases.get(i));
            state.onLogStartOffset(start);
            producers = state;
            logStart = start;
            highWatermark = next;
            lastStable = state.lastStableOffset(next);
            consistent = true;
            loadedAt = loading;
        }
    }

    /**
     * Joins the transactional batches of {@code group} to their transactions (in transactional-id order, the order
     * in which every writer takes their locks); returns the jobs still to append, failing those refused.
     */
    private List<Job> joinTransactions(Connection c, List<Job> group) throws SQLException {
        boolean any = false;
        for (Job j : group) any |= ((Append) j).transactionalId() != null;
        if (!any) return group;
        List<Append> transactional = new ArrayList<>();
        for (Job j : group) if (((Append) j).transactionalId() != null) transactional.add((Append) j);
        transactional.sort(java.util.Comparator.comparing(Append::transactionalId));
        List<Job> accepted = new ArrayList<>(group);
        for (Append a : transactional) {
            try {
                joiner.join(c, a.transactionalId(), tp, a.batch());
            } catch (StorageException e) {
                a.done().completeExceptionally(e);
                accepted.remove(a);
            }
        }
        return accepted;
    }

    private void appendGroup(Connection c, List<Job> jobs) throws SQLException {
        List<Job> group = joinTransactions(c, jobs);
        long expectedBase = highWatermark;
        long next = expectedBase;
        List<Job> stored = new ArrayList<>(group.size());
        List<byte[]> bytes = new ArrayList<>(group.size());
        List<Long> bases = new ArrayList<>(group.size());
        synchronized (this) {
            for (Job j : group) {
                Append a = (Append) j;
                long dup;
                try {
                    dup = producers.check(a.batch());
                } catch (StorageException e) {
                    j.done().completeExceptionally(e);
                    continue;
                }
                if (dup != PartitionProducerState.APPEND) {
                    RecordBatch.setBaseOffset(a.batch(), dup);
                    stored.add(j);
                    bytes.add(null);
                    bases.add(dup);
                    continue;
                }
                RecordBatch.setBaseOffset(a.batch(), next);
                RecordBatch.setPartitionLeaderEpoch(a.batch(), a.leaderEpoch());
                if (a.appendTimeMs() >= 0) RecordBatch.setLogAppendTime(a.batch(), a.appendTimeMs());
                MemorySegment segment = MemorySegment.ofArray(a.batch().toArray(BYTE));
                producers.onAppend(segment, next); // tentative: a failed commit reloads the partition
                stored.add(j);
                bytes.add((byte[]) segment.heapBase().orElseThrow());
                bases.add(next);
                next = RecordBatch.nextOffset(segment, next);
            }
        }
        long count = next - expectedBase;
        if (count > 0) {
            // the partition row first: every writer (appends here, markers of other brokers' transactions) locks it
            // before inserting, so they queue instead of deadlocking
            try (PreparedStatement up = c.prepareStatement("UPDATE kiri_partitions SET next_offset = next_offset + ?"
                    + " WHERE topic_id = ? AND partition = ? RETURNING next_offset")) {
                up.setLong(1, count);
                up.setObject(2, topicId);
                up.setInt(3, tp.partition());
                try (ResultSet rs = up.executeQuery()) {
                    if (!rs.next()) throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Partition " + tp + " was deleted");
                    if (rs.getLong(1) != next) {
                        throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "Partition " + tp
                                + " was appended to by another broker meanwhile; retry");
                    }
                }
            }
            try (PreparedStatement ins = c.prepareStatement(INSERT)) {
                for (int k = 0; k < stored.size(); k++) {
                    byte[] b = bytes.get(k);
                    if (b == null) continue; // duplicate
                    bind(ins, bases.get(k), b);
                    ins.addBatch();
                }
                ins.executeBatch();
            }
            notifier.notify(c, topicId, tp.partition(), next);
        }
        c.commit();
        synchronized (this) {
            highWatermark = next;
            lastStable = producers.lastStableOffset(next);
        }
        for (Job j : stored) j.done().complete(null);
        if (count > 0) signal();
    }

    /**
     * Appends a transaction marker in the caller's database transaction (EndTxn, a transaction timeout: see
     * {@link PgTransactions}), whichever broker leads the partition; after the caller commits it calls
     * {@link #invalidate} so that this broker's view catches up (other brokers hear the notification).
     */
    void appendMarker(Connection c, long producerId, short epoch, boolean commit, int leaderEpoch, long nowMs) throws SQLException {
        long base;
        try (PreparedStatement up = c.prepareStatement("UPDATE kiri_partitions SET next_offset = next_offset + 1"
                + " WHERE topic_id = ? AND partition = ? RETURNING next_offset")) {
            up.setObject(1, topicId);
            up.setInt(2, tp.partition());
            try (ResultSet rs = up.executeQuery()) {
                if (!rs.next()) return; // deleted meanwhile: nothing to end there
                base = rs.getLong(1) - 1;
            }
        }
        byte[] bytes = new byte[ControlBatch.SIZE];
        MemorySegment marker = MemorySegment.ofArray(bytes);
        ControlBatch.write(marker, base, leaderEpoch, producerId, epoch, commit, 0, nowMs);
        try (PreparedStatement ins = c.prepareStatement(INSERT)) {
            bind(ins, base, bytes);
            ins.executeUpdate();
        }
        notifier.notify(c, topicId, tp.partition(), base + 1);
    }

    private static final String INSERT = "INSERT INTO kiri_batches (topic_id, partition, base_offset, last_offset,"
            + " max_timestamp, producer_id, producer_epoch, base_sequence, flags, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private void bind(PreparedStatement ins, long base, byte[] b) throws SQLException {
        MemorySegment s = MemorySegment.ofArray(b);
        ins.setObject(1, topicId);
        ins.setInt(2, tp.partition());
        ins.setLong(3, base);
        ins.setLong(4, RecordBatch.nextOffset(s, base) - 1);
        ins.setLong(5, RecordBatch.maxTimestamp(s));
        ins.setLong(6, RecordBatch.producerId(s));
        ins.setShort(7, RecordBatch.producerEpoch(s));
        ins.setInt(8, RecordBatch.baseSequence(s));
        ins.setShort(9, RecordBatch.attributes(s));
        ins.setBytes(10, b);
    }

    private void truncate(Connection c, long offset) throws SQLException {
        if (offset <= logStart) return;
        long next;
        long start;
        try (PreparedStatement up = c.prepareStatement("UPDATE kiri_partitions SET log_start_offset = greatest(log_start_offset, ?)"
                + " WHERE topic_id = ? AND partition = ? RETURNING next_offset, log_start_offset");
             PreparedStatement del = c.prepareStatement("DELETE FROM kiri_batches WHERE topic_id = ? AND partition = ? AND last_offset < ?")) {
            up.setLong(1, offset);
            up.setObject(2, topicId);
            up.setInt(3, tp.partition());
            try (ResultSet rs = up.executeQuery()) {
                if (!rs.next()) throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Partition " + tp + " was deleted");
                next = rs.getLong(1);
                start = rs.getLong(2); // another broker may have truncated further
            }
            del.setObject(1, topicId);
            del.setInt(2, tp.partition());
            del.setLong(3, start);
            del.executeUpdate();
        }
        notifier.notify(c, topicId, tp.partition(), next, start); // the others' log start follows
        synchronized (this) {
            logStart = start;
            producers.onLogStartOffset(start);
            lastStable = producers.lastStableOffset(highWatermark);
        }
    }

    // ---- reads -------------------------------------------------------------------------------------

    synchronized List<ActiveProducer> activeProducers() {
        return producers.activeProducers();
    }

    synchronized List<kiri.storage.api.AbortedTransaction> abortedTransactions(long from, long upTo) {
        return producers.abortedTransactions(from, upTo);
    }

    synchronized void expireProducers(long nowMs, long expirationMs) {
        producers.removeExpired(nowMs, expirationMs);
    }

    /** Wakes the long polls waiting on this partition. */
    void signal() {
        uncommittedWaiters.signal();
        committedWaiters.signal();
    }

    /** The topic was deleted or the storage closes: wakes every waiter; later writes fail. */
    void remove() {
        removed = true;
        uncommittedWaiters.wakeAll();
        committedWaiters.wakeAll();
        failQueued(new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Partition " + tp + " was deleted"));
    }
}
