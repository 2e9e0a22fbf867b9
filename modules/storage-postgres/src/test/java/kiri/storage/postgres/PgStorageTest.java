package kiri.storage.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.storage.api.BatchRegion;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.RecordBatchHeader;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.Storages;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import kiri.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The postgres engine against a real PostgreSQL (one server for the class, a fresh database per test). */
class PgStorageTest {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer pg;

    private String url;
    private final List<Storage> open = new ArrayList<>();
    private final TopicPartition p0 = new TopicPartition("t", 0);

    @BeforeAll
    static void startPostgres() {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) pg.close();
    }

    @BeforeEach
    void freshDatabase() throws Exception {
        String db = "kiri_test_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        url = "postgres://" + PostgresServer.USER + ":" + PostgresServer.PASSWORD + "@" + pg.host() + ":" + pg.port() + "/" + db;
    }

    @AfterEach
    void closeAll() {
        open.forEach(Storage::close);
    }

    private Storage openStorage(int nodeId) {
        Storage s = Storages.open(url, new StorageContext(nodeId, null, "localhost", 9092));
        open.add(s);
        return s;
    }

    private static <T> T await(CompletionStage<T> stage) {
        return stage.toCompletableFuture().orTimeout(60, TimeUnit.SECONDS).join();
    }

    private static short errorOf(CompletionStage<?> stage) {
        try {
            await(stage);
        } catch (RuntimeException e) {
            return StorageException.errorCodeOf(e);
        }
        throw new AssertionError("expected a failure");
    }

    private static long produce(Storage s, String txnId, TopicPartition tp, MemorySegment batch) {
        await(s.produce(txnId, tp, batch));
        return RecordBatchHeader.baseOffset(batch);
    }

    private static List<Long> offsetsOf(FetchResult r) {
        List<Long> offsets = new ArrayList<>();
        for (BatchRegion b : r.batches()) {
            offsets.addAll(KafkaBatches.offsets(((BatchRegion.Segment) b).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
        }
        return offsets;
    }

    @Test
    void recordsTopicsAndOffsetsSurviveAReopen() {
        Storage a = openStorage(1);
        TopicInfo created = await(a.createTopic(new NewTopic("t", 2, (short) -1, Map.of("retention.ms", "-1")), false));
        assertEquals(0, produce(a, null, p0, KafkaBatches.plain(3)));
        assertEquals(3, produce(a, null, p0, KafkaBatches.plain(2)));
        try (FetchResult r = await(a.fetch(p0, 1, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED))) {
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), offsetsOf(r));
            assertEquals(5, r.highWatermark());
        }
        String clusterId = a.clusterId();
        a.close();

        Storage b = openStorage(1);
        assertEquals(clusterId, b.clusterId(), "the cluster id is stored");
        TopicInfo loaded = await(b.listTopics()).getFirst();
        assertEquals(created.id(), loaded.id(), "the topic keeps its id");
        assertEquals(2, loaded.partitionCount());
        assertEquals("-1", loaded.configs().get("retention.ms"));
        assertEquals(5, await(b.offsets(p0)).highWatermark());
        assertEquals(5, produce(b, null, p0, KafkaBatches.plain(1)));
        try (FetchResult r = await(b.fetch(p0, 4, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED))) {
            assertEquals(List.of(3L, 4L, 5L), offsetsOf(r), "from the batch holding offset 4");
        }
        assertEquals(ErrorCodes.OFFSET_OUT_OF_RANGE, errorOf(b.fetch(p0, 7, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED)));
        assertEquals(ErrorCodes.TOPIC_ALREADY_EXISTS, errorOf(b.createTopic(new NewTopic("t", 1), false)));
    }

    @Test
    void aRetriedIdempotentBatchIsADuplicateEvenAfterAReopen() {
        Storage a = openStorage(1);
        await(a.createTopic(new NewTopic("t", 1), false));
        assertEquals(0, produce(a, null, p0, KafkaBatches.idempotent(7, (short) 0, 0, 4)));
        a.close();
        Storage b = openStorage(1);
        assertEquals(0, produce(b, null, p0, KafkaBatches.idempotent(7, (short) 0, 0, 4)), "the original offset");
        assertEquals(4, await(b.offsets(p0)).highWatermark(), "stored once");
        assertEquals(ErrorCodes.OUT_OF_ORDER_SEQUENCE_NUMBER, errorOf(b.produce(null, p0, KafkaBatches.idempotent(7, (short) 0, 9, 1))));
        assertEquals(4, produce(b, null, p0, KafkaBatches.idempotent(7, (short) 0, 4, 1)));
    }

    @Test
    void groupCommitKeepsOrderAndOffsetsOfConcurrentProduces() {
        Storage a = openStorage(1);
        await(a.createTopic(new NewTopic("t", 1), false));
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(a.produce(null, p0, KafkaBatches.idempotent(3, (short) 0, i * 2, 2)).toCompletableFuture());
        }
        await(CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)));
        assertEquals(400, await(a.offsets(p0)).highWatermark());
        try (FetchResult r = await(a.fetch(p0, 0, 1 << 24, true, IsolationLevel.READ_UNCOMMITTED))) {
            List<Long> offsets = offsetsOf(r);
            assertEquals(400, offsets.size());
            for (int i = 0; i < offsets.size(); i++) assertEquals(i, offsets.get(i));
        }
    }

    @Test
    void abortedTransactionsAreHiddenFromReadCommitted() {
        Storage a = openStorage(1);
        await(a.createTopic(new NewTopic("t", 1), false));
        ProducerIdAndEpoch pid = await(a.initProducerId("tx", 60_000, ProducerIdAndEpoch.NONE));
        await(a.addPartitionsToTxn("tx", pid, List.of(p0)));
        produce(a, "tx", p0, KafkaBatches.transactional(pid.producerId(), pid.epoch(), 0, 2));
        assertEquals(0, await(a.offsets(p0)).lastStableOffset(), "open transaction holds the LSO");
        await(a.endTxn("tx", pid, false, false));
        assertEquals(3, await(a.offsets(p0)).lastStableOffset(), "data and the abort marker");
        try (FetchResult r = await(a.fetch(p0, 0, 1 << 20, true, IsolationLevel.READ_COMMITTED))) {
            assertEquals(1, r.abortedTransactions().size());
            assertEquals(pid.producerId(), r.abortedTransactions().getFirst().producerId());
        }
        a.close();
        Storage b = openStorage(1);
        assertEquals(3, await(b.offsets(p0)).lastStableOffset(), "the marker is stored");
        try (FetchResult r = await(b.fetch(p0, 0, 1 << 20, true, IsolationLevel.READ_COMMITTED))) {
            assertEquals(1, r.abortedTransactions().size(), "aborted ranges rebuilt from the stored batches");
        }
    }

    @Test
    void deleteRecordsMovesTheLogStartDurably() {
        Storage a = openStorage(1);
        await(a.createTopic(new NewTopic("t", 1), false));
        produce(a, null, p0, KafkaBatches.plain(3));
        produce(a, null, p0, KafkaBatches.plain(3));
        assertEquals(4L, await(a.deleteRecords(p0, 4)));
        assertEquals(ErrorCodes.OFFSET_OUT_OF_RANGE, errorOf(a.fetch(p0, 2, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED)));
        assertEquals(ErrorCodes.OFFSET_OUT_OF_RANGE, errorOf(a.deleteRecords(p0, 7)));
        a.close();
        Storage b = openStorage(1);
        assertEquals(4, await(b.offsets(p0)).logStartOffset());
        try (FetchResult r = await(b.fetch(p0, 4, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED))) {
            assertEquals(List.of(3L, 4L, 5L), offsetsOf(r));
        }
    }

    @Test
    void brokersStartingAtOnceShareOneSchemaAndWakeEachOthersFetches() throws Exception {
        List<CompletableFuture<Storage>> starting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int node = i;
            starting.add(CompletableFuture.supplyAsync(() -> openStorage(node)));
        }
        List<Storage> brokers = new ArrayList<>();
        for (CompletableFuture<Storage> f : starting) brokers.add(f.get(120, TimeUnit.SECONDS));
        assertEquals(brokers.get(0).clusterId(), brokers.get(2).clusterId());
        try (Connection c = new PgConnector(PgConfig.parse(StorageUrl.parse(url), Map.of())).connect()) {
            assertEquals(PgSchema.MIGRATIONS.size(), PgSchema.version(c));
        }
        // b learns of the topic when it opens; a appends and b's long poll wakes through NOTIFY
        Storage a = brokers.get(0);
        await(a.createTopic(new NewTopic("t", 1), false));
        Storage b = openStorage(5);
        assertEquals(0, await(b.offsets(p0)).highWatermark());
        CompletableFuture<Void> waiting = b.awaitData(p0, 0, IsolationLevel.READ_UNCOMMITTED);
        assertFalse(waiting.isDone());
        produce(a, null, p0, KafkaBatches.plain(2));
        waiting.get(60, TimeUnit.SECONDS);
        long hwm = -1;
        for (int i = 0; i < 100 && hwm != 2; i++) hwm = await(b.offsets(p0)).highWatermark(); // reloaded on first use
        assertEquals(2, hwm);
        assertEquals(2, produce(b, null, p0, KafkaBatches.plain(1)), "offsets continue where the other broker left them");
    }

    @Test
    void badUrlsAndPasswordSources() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PgConfig.parse(StorageUrl.parse("postgres://host/db"), Map.of()));
        assertTrue(e.getMessage().contains("USER[:PASSWORD]@HOST[:PORT]/DATABASE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PgConfig.parse(StorageUrl.parse("postgres://u:secret@h:99999/db"), Map.of()));
        assertFalse(e.getMessage().contains("secret"), "the password is not printed: " + e.getMessage());
        assertEquals("pw", PgConfig.parse(StorageUrl.parse("postgresql://u@h/db"), Map.of("PGPASSWORD", "pw")).password());
        java.nio.file.Path file = java.nio.file.Files.createTempFile("pgpass", "");
        java.nio.file.Files.writeString(file, "fromfile\n");
        PgConfig c = PgConfig.parse(StorageUrl.parse("postgres://u@h:6000/db?password-file=" + file), Map.of("PGPASSWORD", "pw"));
        assertEquals("fromfile", c.password());
        assertEquals(6000, c.port());
        java.nio.file.Files.delete(file);
        StorageException wrong = assertThrows(StorageException.class, () -> Storages.open(
                url.replace(PostgresServer.PASSWORD, "wrong"), new StorageContext(1, null, "localhost", 9092)));
        assertEquals(ErrorCodes.KAFKA_STORAGE_ERROR, wrong.errorCode());
    }
}
