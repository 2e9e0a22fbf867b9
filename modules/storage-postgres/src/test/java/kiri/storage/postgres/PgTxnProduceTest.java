package kiri.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import kiri.storage.api.NewTopic;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import kiri.testsupport.PostgresServer;
import kiri.testsupport.Wait;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A transactional produce and the end of its transaction racing: the produce's check and its append are one
 * database transaction, so its batch is either inside the transaction it joined or starts a new one, never
 * left after the marker of an ended transaction (which would hold the last stable offset forever).
 */
class PgTxnProduceTest {
    private PostgresServer pg;
    private String jdbc;
    private Storage storage;
    private final TopicPartition p0 = new TopicPartition("t", 0);
    private final TopicPartition p1 = new TopicPartition("t", 1);

    @BeforeEach
    void start() throws Exception {
        pg = PostgresServer.start();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE kiri_txn");
        }
        jdbc = "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/kiri_txn";
        storage = open("");
    }

    @AfterEach
    void stop() {
        if (storage != null) storage.close();
        if (pg != null) pg.close();
    }

    private Storage open(String params) {
        return Storages.open("postgres://" + PostgresServer.USER + ":" + PostgresServer.PASSWORD + "@" + pg.host() + ":"
                + pg.port() + "/kiri_txn" + params, new StorageContext(1, null, "localhost", 9092));
    }

    private static <T> T await(CompletionStage<T> stage) {
        return stage.toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
    }

    /** Sessions of this database waiting for a lock (a row or an advisory lock). */
    private int lockWaiters(Connection c) throws Exception {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                     + " AND datname = current_database()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Broker A (one pool connection) checks a transactional batch, then its connection is held up before the append;
     * meanwhile broker B aborts the transaction and A hears of B's markers. Before the fix A appended the batch
     * after the abort marker, as an open transaction that nothing would ever end.
     */
    @Test
    void aTransactionalBatchNeverLandsAfterTheAbortOfTheTransactionItJoined() throws Exception {
        storage.close();
        storage = open("?pool=1");
        await(storage.createTopic(new NewTopic("t", 2, (short) -1, Map.of()), false));
        await(storage.createTopic(new NewTopic("other", 1, (short) -1, Map.of()), false));
        ProducerIdAndEpoch pid = await(storage.initProducerId("tx", 60_000, ProducerIdAndEpoch.NONE));
        await(storage.produce("tx", p1, KafkaBatches.transactional(pid.producerId(), pid.epoch(), 0, 1)));
        await(storage.offsets(p0));
        PgStorage a = (PgStorage) storage;
        try (Storage b = open("");
             Connection holder = DriverManager.getConnection(jdbc, PostgresServer.USER, PostgresServer.PASSWORD);
             Connection watcher = DriverManager.getConnection(jdbc, PostgresServer.USER, PostgresServer.PASSWORD)) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.executeQuery("SELECT 1 FROM kiri_topics WHERE name = 'other' FOR UPDATE").close();
            }
            CompletableFuture<Void> late = storage.produce("tx", p0,
                    KafkaBatches.transactional(pid.producerId(), pid.epoch(), 0, 1)).toCompletableFuture();
            // queued on A's only connection before the append can run (after the produce's check, before the fix)
            CompletableFuture<?> blocker = storage.createPartitions("other", 2, false).toCompletableFuture();
            Wait.until("A's connection waits for the row lock", () -> lockWaiters(watcher) >= 1);
            await(b.endTxn("tx", pid, false, false));
            Wait.until("A heard of B's markers", () -> !a.isLoaded(p1));
            holder.rollback();
            await(blocker);
            await(late);
        }
        await(storage.endTxn("tx", pid, false, false)); // ends whatever the late batch began
        PartitionOffsets offsets = await(storage.offsets(p0));
        assertEquals(offsets.highWatermark(), offsets.lastStableOffset(), "no transaction left open in " + p0 + ": " + offsets);

        storage.close();
        storage = open("");
        PartitionOffsets reloaded = await(storage.offsets(p0));
        assertEquals(reloaded.highWatermark(), reloaded.lastStableOffset(), "rebuilt from the stored batches: " + reloaded);
        assertEquals(List.of(), await(storage.describeProducers(p0)).stream()
                .filter(p -> p.currentTxnStartOffset() >= 0).toList(), "no open transaction");
    }
}
