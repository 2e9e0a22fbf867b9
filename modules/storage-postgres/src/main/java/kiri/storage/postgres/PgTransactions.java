package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import kiri.protocol.ErrorCode;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;
import kiri.storage.kit.TransactionTable;

/**
 * Transactional ids in PostgreSQL ({@code kiri_txns}, {@code kiri_txn_partitions}, {@code kiri_txn_offsets}),
 * with {@link TransactionTable}'s rules. Each operation runs in one database transaction: it takes the
 * transactional id's advisory lock (so brokers serialise on it even before its row exists), loads the stored
 * state into a fresh {@link TransactionTable}, applies the rules, writes back what changed, and writes the
 * transaction's markers and committed offsets <em>in the same database transaction</em>: an EndTxn is either
 * wholly done (state, markers, offsets) or not at all, whichever broker runs it and whenever one dies.
 *
 * <p>Stateless apart from the producer-id blocks; methods run on {@link PgPool} threads.
 */
final class PgTransactions {
    /** Where markers go: appended on the caller's connection (see {@link PgPartition#appendMarker}). */
    interface Partitions {
        boolean exists(TopicPartition tp);

        void writeMarker(Connection c, TopicPartition tp, ProducerIdAndEpoch producer, boolean commit, long nowMs) throws SQLException;
    }

    private record Marker(TopicPartition tp, ProducerIdAndEpoch producer, boolean commit) {}

    private static final Comparator<TopicPartition> ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private final PgProducerIds ids;
    private final Partitions partitions;

    PgTransactions(PgProducerIds ids, Partitions partitions) {
        this.ids = ids;
        this.partitions = partitions;
    }

    /**
     * Runs {@code op} on the stored state of {@code txnId} and stores the result (caller's transaction).
     *
     * @param marked filled with the partitions that got a marker
     */
    <T> T run(Connection c, String txnId, long nowMs, Function<TransactionTable, T> op, List<TopicPartition> marked)
            throws SQLException {
        try (PreparedStatement l = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
            l.setString(1, "kiri.txn:" + txnId);
            l.execute();
        }
        TransactionTable.Snapshot before = load(c, txnId);
        List<Marker> markers = new ArrayList<>();
        Map<String, List<OffsetCommit>> offsets = new LinkedHashMap<>();
        TransactionTable table = new TransactionTable(new TransactionTable.Engine() {
            @Override
            public boolean partitionExists(TopicPartition tp) {
                return partitions.exists(tp);
            }

            @Override
            public void writeMarker(TopicPartition tp, ProducerIdAndEpoch producer, boolean commit) {
                markers.add(new Marker(tp, producer, commit));
            }

            @Override
            public void commitOffsets(String groupId, List<OffsetCommit> list) {
                offsets.computeIfAbsent(groupId, k -> new ArrayList<>()).addAll(list);
            }
        }, () -> {
            try {
                return ids.next(c);
            } catch (SQLException e) {
                throw PgPool.failure(e);
            }
        });
        if (before != null) table.restore(before);
        T result = op.apply(table);
        TransactionTable.Snapshot after = table.snapshot(txnId);
        if (after != null && !after.equals(before)) store(c, after);
        // a stable order of row locks on kiri_partitions, so that two ends never deadlock
        markers.sort(Comparator.comparing(Marker::tp, ORDER));
        for (Marker m : markers) {
            partitions.writeMarker(c, m.tp(), m.producer(), m.commit(), nowMs);
            marked.add(m.tp());
        }
        for (var e : offsets.entrySet()) PgGroups.commit(c, e.getKey(), e.getValue(), nowMs);
        return result;
    }

    /** Transactional ids whose open transaction has outlived its timeout. */
    static List<String> expired(Connection c, long nowMs) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement("SELECT txn_id FROM kiri_txns WHERE state = ? AND start_ms + timeout_ms < ?")) {
            q.setString(1, TransactionState.ONGOING.name());
            q.setLong(2, nowMs);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The UNSTABLE_OFFSET_COMMIT error if an open transaction has pending offsets of the group for {@code tps} (all if null), else null. */
    static StorageException unstableOffsets(Connection c, String groupId, Collection<TopicPartition> tps) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT o.topic, o.partition, o.txn_id FROM kiri_txn_offsets o"
                + " JOIN kiri_txns t USING (txn_id) WHERE o.group_id = ? AND t.state = ?")) {
            q.setString(1, groupId);
            q.setString(2, TransactionState.ONGOING.name());
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    TopicPartition tp = new TopicPartition(rs.getString(1), rs.getInt(2));
                    if (tps == null || tps.contains(tp)) {
                        return new StorageException(ErrorCode.UNSTABLE_OFFSET_COMMIT, "There are unstable offsets for "
                                + tp + " in group '" + groupId + "' (open transaction '" + rs.getString(3) + "')");
                    }
                }
            }
        }
        return null;
    }

    /** Describe/ListTransactions ({@code txnIds} null: all, by id). */
    List<TransactionDescription> describe(Connection c, Collection<String> txnIds) throws SQLException {
        List<String> ids = new ArrayList<>();
        if (txnIds != null) {
            ids.addAll(txnIds);
        } else {
            try (PreparedStatement q = c.prepareStatement("SELECT txn_id FROM kiri_txns ORDER BY txn_id"); ResultSet rs = q.executeQuery()) {
                while (rs.next()) ids.add(rs.getString(1));
            }
        }
        TransactionTable table = new TransactionTable(null, () -> -1L);
        for (String id : ids) {
            TransactionTable.Snapshot s = load(c, id);
            if (s != null) table.restore(s);
        }
        return table.describe(ids);
    }

    /** Forgets a deleted topic's partitions in open transactions (their markers have nowhere to go). */
    static void removeTopic(Connection c, String topic) throws SQLException {
        for (String table : List.of("kiri_txn_partitions", "kiri_txn_offsets")) {
            try (PreparedStatement d = c.prepareStatement("DELETE FROM " + table + " WHERE topic = ?")) {
                d.setString(1, topic);
                d.executeUpdate();
            }
        }
    }

    private static TransactionTable.Snapshot load(Connection c, String txnId) throws SQLException {
        ProducerIdAndEpoch producer;
        ProducerIdAndEpoch previous;
        int timeoutMs;
        TransactionState state;
        long startMs;
        try (PreparedStatement q = c.prepareStatement("SELECT producer_id, epoch, prev_producer_id, prev_epoch, timeout_ms, state,"
                + " start_ms FROM kiri_txns WHERE txn_id = ?")) {
            q.setString(1, txnId);
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) return null;
                producer = new ProducerIdAndEpoch(rs.getLong(1), rs.getShort(2));
                previous = new ProducerIdAndEpoch(rs.getLong(3), rs.getShort(4));
                timeoutMs = rs.getInt(5);
                state = TransactionState.valueOf(rs.getString(6));
                startMs = rs.getLong(7);
            }
        }
        List<TopicPartition> tps = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement("SELECT topic, partition FROM kiri_txn_partitions WHERE txn_id = ? ORDER BY 1, 2")) {
            q.setString(1, txnId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) tps.add(new TopicPartition(rs.getString(1), rs.getInt(2)));
            }
        }
        Map<String, Map<TopicPartition, OffsetCommit>> pending = new LinkedHashMap<>();
        try (PreparedStatement q = c.prepareStatement("SELECT group_id, topic, partition, committed_offset, leader_epoch, metadata,"
                + " expire_ms FROM kiri_txn_offsets WHERE txn_id = ? ORDER BY 1, 2, 3")) {
            q.setString(1, txnId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    TopicPartition tp = new TopicPartition(rs.getString(2), rs.getInt(3));
                    pending.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>())
                            .put(tp, new OffsetCommit(tp, rs.getLong(4), rs.getInt(5), rs.getString(6), rs.getLong(7)));
                }
            }
        }
        return new TransactionTable.Snapshot(txnId, producer, previous, timeoutMs, state, startMs, tps, pending);
    }

    private static void store(Connection c, TransactionTable.Snapshot s) throws SQLException {
        try (PreparedStatement u = c.prepareStatement("INSERT INTO kiri_txns VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (txn_id) DO UPDATE"
                + " SET producer_id = excluded.producer_id, epoch = excluded.epoch, prev_producer_id = excluded.prev_producer_id,"
                + " prev_epoch = excluded.prev_epoch, timeout_ms = excluded.timeout_ms, state = excluded.state, start_ms = excluded.start_ms")) {
            u.setString(1, s.transactionalId());
            u.setLong(2, s.producer().producerId());
            u.setShort(3, s.producer().epoch());
            u.setLong(4, s.previous().producerId());
            u.setShort(5, s.previous().epoch());
            u.setInt(6, s.timeoutMs());
            u.setString(7, s.state().name());
            u.setLong(8, s.startMs());
            u.executeUpdate();
        }
        for (String table : List.of("kiri_txn_partitions", "kiri_txn_offsets")) {
            try (PreparedStatement d = c.prepareStatement("DELETE FROM " + table + " WHERE txn_id = ?")) {
                d.setString(1, s.transactionalId());
                d.executeUpdate();
            }
        }
        if (!s.partitions().isEmpty()) {
            try (PreparedStatement i = c.prepareStatement("INSERT INTO kiri_txn_partitions VALUES (?, ?, ?)")) {
                for (TopicPartition tp : s.partitions()) {
                    i.setString(1, s.transactionalId());
                    i.setString(2, tp.topic());
                    i.setInt(3, tp.partition());
                    i.addBatch();
                }
                i.executeBatch();
            }
        }
        Predicate<Map<TopicPartition, OffsetCommit>> any = m -> !m.isEmpty();
        if (s.pendingOffsets().values().stream().anyMatch(any)) {
            try (PreparedStatement i = c.prepareStatement("INSERT INTO kiri_txn_offsets VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (var g : s.pendingOffsets().entrySet()) {
                    for (OffsetCommit o : g.getValue().values()) {
                        i.setString(1, s.transactionalId());
                        i.setString(2, g.getKey());
                        i.setString(3, o.partition().topic());
                        i.setInt(4, o.partition().partition());
                        i.setLong(5, o.offset());
                        i.setInt(6, o.leaderEpoch());
                        i.setString(7, o.metadata());
                        i.setLong(8, o.expireAtMs());
                        i.addBatch();
                    }
                }
                i.executeBatch();
            }
        }
    }
}
