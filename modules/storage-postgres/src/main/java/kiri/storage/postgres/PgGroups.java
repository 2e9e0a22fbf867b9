package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import kiri.protocol.ErrorCode;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupListing;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.VersionConflictException;

/**
 * Consumer group state ({@code kiri_groups}) and committed offsets ({@code kiri_offsets}) in PostgreSQL, with
 * the rules {@link kiri.storage.kit.GroupTable} applies in memory: offsets-only groups, compare-and-set of the
 * state on its version (versions from one sequence, so a re-created group never reuses one), DeleteGroups only
 * without members, expiry of offsets only for groups without members. Every broker reads and writes the rows
 * directly, so coordinators on several brokers share them.
 *
 * <p>Stateless: each method runs inside the caller's database transaction, on a {@link PgPool} thread.
 */
final class PgGroups {
    private PgGroups() {}

    /** OffsetCommit (or a committed transaction's offsets): replaces each partition's offset, stamped {@code nowMs}. */
    static void commit(Connection c, String groupId, List<OffsetCommit> offsets, long nowMs) throws SQLException {
        if (offsets.isEmpty()) return;
        try (PreparedStatement u = c.prepareStatement("INSERT INTO kiri_offsets VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,"
                + " leader_epoch = excluded.leader_epoch, metadata = excluded.metadata, commit_ms = excluded.commit_ms,"
                + " expire_ms = excluded.expire_ms")) {
            for (OffsetCommit o : offsets) {
                u.setString(1, groupId);
                u.setString(2, o.partition().topic());
                u.setInt(3, o.partition().partition());
                u.setLong(4, o.offset());
                u.setInt(5, o.leaderEpoch());
                u.setString(6, o.metadata());
                u.setLong(7, nowMs);
                u.setLong(8, o.expireAtMs());
                u.addBatch();
            }
            u.executeBatch();
        }
    }

    /** OffsetFetch: for {@code partitions}, or all if null; partitions without an offset are left out. */
    static Map<TopicPartition, CommittedOffset> fetch(Connection c, String groupId, Collection<TopicPartition> partitions)
            throws SQLException {
        Map<TopicPartition, CommittedOffset> all = new LinkedHashMap<>();
        try (PreparedStatement q = c.prepareStatement("SELECT topic, partition, committed_offset, leader_epoch, metadata,"
                + " commit_ms, expire_ms FROM kiri_offsets WHERE group_id = ? ORDER BY topic, partition")) {
            q.setString(1, groupId);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    all.put(new TopicPartition(rs.getString(1), rs.getInt(2)),
                            new CommittedOffset(rs.getLong(3), rs.getInt(4), rs.getString(5), rs.getLong(6), rs.getLong(7)));
                }
            }
        }
        if (partitions == null) return all;
        Map<TopicPartition, CommittedOffset> out = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            CommittedOffset o = all.get(tp);
            if (o != null) out.put(tp, o);
        }
        return out;
    }

    /** OffsetDelete. @throws StorageException GROUP_ID_NOT_FOUND */
    static void deleteOffsets(Connection c, String groupId, Collection<TopicPartition> partitions) throws SQLException {
        if (group(c, groupId).isEmpty()) throw notFound(groupId);
        try (PreparedStatement d = c.prepareStatement("DELETE FROM kiri_offsets WHERE group_id = ? AND topic = ? AND partition = ?")) {
            for (TopicPartition tp : partitions) {
                d.setString(1, groupId);
                d.setString(2, tp.topic());
                d.setInt(3, tp.partition());
                d.addBatch();
            }
            d.executeBatch();
        }
    }

    /** ListGroups rows, by group id: groups with state, and groups with offsets only. */
    static List<GroupListing> list(Connection c) throws SQLException {
        TreeMap<String, GroupListing> out = new TreeMap<>();
        try (PreparedStatement q = c.prepareStatement("SELECT DISTINCT group_id FROM kiri_offsets");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) out.put(rs.getString(1), GroupState.offsetsOnly(rs.getString(1)).listing());
        }
        try (PreparedStatement q = c.prepareStatement("SELECT group_id, type, protocol_type, state FROM kiri_groups");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) out.put(rs.getString(1), new GroupListing(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
        }
        return new ArrayList<>(out.values());
    }

    /** The stored state, {@link GroupState#offsetsOnly} if only offsets, empty if neither. */
    static Optional<GroupState> group(Connection c, String groupId) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT type, protocol_type, state, data, version FROM kiri_groups WHERE group_id = ?")) {
            q.setString(1, groupId);
            try (ResultSet rs = q.executeQuery()) {
                if (rs.next()) {
                    return Optional.of(new GroupState(groupId, rs.getString(1), rs.getString(2), rs.getString(3), rs.getBytes(4), rs.getLong(5)));
                }
            }
        }
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM kiri_offsets WHERE group_id = ? LIMIT 1")) {
            q.setString(1, groupId);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? Optional.of(GroupState.offsetsOnly(groupId)) : Optional.empty();
            }
        }
    }

    /** Compare-and-set on the version. @throws VersionConflictException */
    static GroupState update(Connection c, GroupState state) throws SQLException {
        long version;
        try (PreparedStatement v = c.prepareStatement("SELECT nextval('kiri_group_versions')"); ResultSet rs = v.executeQuery()) {
            rs.next();
            version = rs.getLong(1);
        }
        String sql = state.version() == GroupState.NO_VERSION
                ? "INSERT INTO kiri_groups (type, protocol_type, state, data, version, group_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                : "UPDATE kiri_groups SET type = ?, protocol_type = ?, state = ?, data = ?, version = ? WHERE group_id = ? AND version = ?";
        try (PreparedStatement u = c.prepareStatement(sql)) {
            u.setString(1, state.type());
            u.setString(2, state.protocolType());
            u.setString(3, state.state());
            u.setBytes(4, state.data());
            u.setLong(5, version);
            u.setString(6, state.groupId());
            if (state.version() != GroupState.NO_VERSION) u.setLong(7, state.version());
            if (u.executeUpdate() == 1) return state.withVersion(version);
        }
        long stored = group(c, state.groupId()).map(GroupState::version).orElse(GroupState.NO_VERSION);
        throw new VersionConflictException("group " + state.groupId(), state.version(), stored);
    }

    /** DeleteGroups. @throws StorageException GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP */
    static void delete(Connection c, String groupId) throws SQLException {
        try (PreparedStatement q = c.prepareStatement("SELECT state FROM kiri_groups WHERE group_id = ? FOR UPDATE")) {
            q.setString(1, groupId);
            try (ResultSet rs = q.executeQuery()) {
                if (rs.next()) {
                    String state = rs.getString(1);
                    if (!state.equals("Empty") && !state.equals("Dead")) {
                        throw new StorageException(ErrorCode.NON_EMPTY_GROUP, "Group '" + groupId + "' is not empty (state " + state + ")");
                    }
                }
            }
        }
        int removed = 0;
        for (String table : List.of("kiri_groups", "kiri_offsets")) {
            try (PreparedStatement d = c.prepareStatement("DELETE FROM " + table + " WHERE group_id = ?")) {
                d.setString(1, groupId);
                removed += d.executeUpdate();
            }
        }
        if (removed == 0) throw notFound(groupId);
    }

    /** Drops every committed offset of a deleted topic. */
    static void removeTopic(Connection c, String topic) throws SQLException {
        try (PreparedStatement d = c.prepareStatement("DELETE FROM kiri_offsets WHERE topic = ?")) {
            d.setString(1, topic);
            d.executeUpdate();
        }
    }

    /** Drops expired committed offsets of groups without members. */
    static void expireOffsets(Connection c, long nowMs) throws SQLException {
        try (PreparedStatement d = c.prepareStatement("DELETE FROM kiri_offsets o WHERE expire_ms >= 0 AND expire_ms <= ?"
                + " AND NOT EXISTS (SELECT 1 FROM kiri_groups g WHERE g.group_id = o.group_id AND g.state NOT IN ('Empty', 'Dead'))")) {
            d.setLong(1, nowMs);
            d.executeUpdate();
        }
    }

    private static StorageException notFound(String groupId) {
        return new StorageException(ErrorCode.GROUP_ID_NOT_FOUND, "Group '" + groupId + "' does not exist");
    }
}
