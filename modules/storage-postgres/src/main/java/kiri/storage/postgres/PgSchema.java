package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import kiri.protocol.ErrorCode;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.StorageException;

/**
 * The engine's tables, created and migrated by the engine itself. {@code kiri_schema} holds the version;
 * each migration runs once, in order, inside one transaction that first takes a transaction-scoped
 * advisory lock, so brokers starting at once wait for each other instead of racing (the second finds the
 * schema ready). Add a migration by appending to {@link #MIGRATIONS}; never edit a released one.
 */
final class PgSchema {
    /** Arbitrary constant naming Kiri's schema lock ("kiri" in ASCII). */
    static final long LOCK_KEY = 0x6b697269L;

    /** Migration i takes the schema from version i to i + 1. */
    static final List<String> MIGRATIONS = List.of("""
            CREATE TABLE kiri_meta (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE kiri_topics (
                name text PRIMARY KEY,
                id uuid NOT NULL UNIQUE,
                partitions int NOT NULL,
                replication_factor smallint NOT NULL);
            CREATE TABLE kiri_topic_configs (
                topic_id uuid NOT NULL REFERENCES kiri_topics (id) ON DELETE CASCADE,
                key text NOT NULL,
                value text NOT NULL,
                PRIMARY KEY (topic_id, key));
            CREATE TABLE kiri_partitions (
                topic_id uuid NOT NULL,
                partition int NOT NULL,
                next_offset bigint NOT NULL DEFAULT 0,
                log_start_offset bigint NOT NULL DEFAULT 0,
                PRIMARY KEY (topic_id, partition));
            CREATE TABLE kiri_batches (
                topic_id uuid NOT NULL,
                partition int NOT NULL,
                base_offset bigint NOT NULL,
                last_offset bigint NOT NULL,
                max_timestamp bigint NOT NULL,
                producer_id bigint NOT NULL,
                producer_epoch smallint NOT NULL,
                base_sequence int NOT NULL,
                flags smallint NOT NULL,
                bytes bytea NOT NULL,
                PRIMARY KEY (topic_id, partition, base_offset));
            -- batches are often compressed already: store them out of line without trying to compress again
            ALTER TABLE kiri_batches ALTER COLUMN bytes SET STORAGE EXTERNAL;
            """, """
            -- producer ids are handed out in blocks: nextval is the first id of a block of BLOCK ids
            CREATE SEQUENCE kiri_producer_ids MINVALUE 0 START WITH 0 INCREMENT BY 1000;
            -- group versions from one sequence: a deleted and re-created group never reuses one (no ABA)
            CREATE SEQUENCE kiri_group_versions;
            CREATE TABLE kiri_groups (
                group_id text PRIMARY KEY,
                type text NOT NULL,
                protocol_type text NOT NULL,
                state text NOT NULL,
                data bytea NOT NULL,
                version bigint NOT NULL);
            CREATE TABLE kiri_offsets (
                group_id text NOT NULL,
                topic text NOT NULL,
                partition int NOT NULL,
                committed_offset bigint NOT NULL,
                leader_epoch int NOT NULL,
                metadata text,
                commit_ms bigint NOT NULL,
                expire_ms bigint NOT NULL,
                PRIMARY KEY (group_id, topic, partition));
            CREATE TABLE kiri_txns (
                txn_id text PRIMARY KEY,
                producer_id bigint NOT NULL,
                epoch smallint NOT NULL,
                prev_producer_id bigint NOT NULL,
                prev_epoch smallint NOT NULL,
                timeout_ms int NOT NULL,
                state text NOT NULL,
                start_ms bigint NOT NULL);
            CREATE TABLE kiri_txn_partitions (
                txn_id text NOT NULL REFERENCES kiri_txns ON DELETE CASCADE,
                topic text NOT NULL,
                partition int NOT NULL,
                PRIMARY KEY (txn_id, topic, partition));
            CREATE TABLE kiri_txn_offsets (
                txn_id text NOT NULL REFERENCES kiri_txns ON DELETE CASCADE,
                group_id text NOT NULL,
                topic text NOT NULL,
                partition int NOT NULL,
                committed_offset bigint NOT NULL,
                leader_epoch int NOT NULL,
                metadata text,
                expire_ms bigint NOT NULL,
                PRIMARY KEY (txn_id, group_id, topic, partition));
            -- bumped whenever the set of live brokers changes: the leader epoch of every placement
            CREATE SEQUENCE kiri_cluster_epochs;
            CREATE TABLE kiri_brokers (
                node_id int PRIMARY KEY,
                host text NOT NULL,
                port int NOT NULL,
                rack text,
                instance uuid NOT NULL,
                lease_until timestamptz NOT NULL);
            """);

    private PgSchema() {}

    /**
     * Brings the schema to the latest version and settles the cluster id.
     *
     * @param configured the configured cluster id, or null to keep the stored one (or store a random one)
     * @return the cluster id
     * @throws StorageException INCONSISTENT_CLUSTER_ID if {@code configured} differs from the stored one
     */
    static String migrate(Connection c, String configured) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")");
            s.execute("CREATE TABLE IF NOT EXISTS kiri_schema (version int NOT NULL)");
            int version;
            try (ResultSet rs = s.executeQuery("SELECT version FROM kiri_schema")) {
                version = rs.next() ? rs.getInt(1) : -1;
            }
            if (version < 0) {
                s.execute("INSERT INTO kiri_schema VALUES (0)");
                version = 0;
            }
            if (version > MIGRATIONS.size()) {
                throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "the database has Kiri schema version " + version
                        + ", newer than this broker knows (" + MIGRATIONS.size() + "): upgrade the broker");
            }
            for (int v = version; v < MIGRATIONS.size(); v++) {
                s.execute(MIGRATIONS.get(v));
                s.execute("UPDATE kiri_schema SET version = " + (v + 1));
            }
        }
        String stored = null;
        try (PreparedStatement q = c.prepareStatement("SELECT value FROM kiri_meta WHERE key = 'cluster.id'");
             ResultSet rs = q.executeQuery()) {
            if (rs.next()) stored = rs.getString(1);
        }
        if (stored == null) {
            stored = configured != null ? configured : KafkaUuid.toString(KafkaUuid.random());
            try (PreparedStatement i = c.prepareStatement("INSERT INTO kiri_meta VALUES ('cluster.id', ?)")) {
                i.setString(1, stored);
                i.executeUpdate();
            }
        } else if (configured != null && !configured.equals(stored)) {
            throw new StorageException(ErrorCode.INCONSISTENT_CLUSTER_ID, "the database belongs to cluster " + stored
                    + ", not the configured " + configured);
        }
        return stored;
    }

    /** The schema version now in the database (tests). */
    static int version(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version FROM kiri_schema")) {
            return rs.next() ? rs.getInt(1) : -1;
        }
    }
}
