package kiri.storage.postgres;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import kiri.protocol.ErrorCode;
import kiri.protocol.Records;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.FetchResult;
import kiri.storage.api.GroupState;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.OffsetSpec;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.Storages;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.VersionConflictException;
import kiri.testsupport.KafkaBatches;
import kiri.testsupport.PostgresServer;
import kiri.testsupport.Wait;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        return RecordBatch.baseOffset(batch);
    }

    private static List<Long> offsetsOf(FetchResult r) {
        List<Long> offsets = new ArrayList<>();
        for (Records.Region b : r.batches()) {
            offsets.addAll(KafkaBatches.offsets(((Records.Memory) b).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
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
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(b.fetch(p0, 7, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED)));
        assertEquals(ErrorCode.TOPIC_ALREADY_EXISTS.code(), errorOf(b.createTopic(new NewTopic("t", 1), false)));
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
        assertEquals(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER.code(), errorOf(b.produce(null, p0, KafkaBatches.idempotent(7, (short) 0, 9, 1))));
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
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(a.fetch(p0, 2, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED)));
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(a.deleteRecords(p0, 7)));
        a.close();
        Storage b = openStorage(1);
        assertEquals(4, await(b.offsets(p0)).logStartOffset());
        try (FetchResult r = await(b.fetch(p0, 4, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED))) {
            assertEquals(List.of(3L, 4L, 5L), offsetsOf(r));
        }
    }

    @Test
    void aTruncationOnOneBrokerMovesTheLogStartOfTheOthers() throws Exception {
        Storage a = openStorage(1);
        Storage b = openStorage(2);
        await(a.createTopic(new NewTopic("t", 1), false));
        produce(a, null, p0, KafkaBatches.plain(3));
        produce(a, null, p0, KafkaBatches.plain(3));
        Wait.until("b sees a's appends", () -> await(b.offsets(p0)).highWatermark() == 6);
        assertEquals(4L, await(a.deleteRecords(p0, 4)));
        Wait.until("b's log start follows a's DeleteRecords", () -> await(b.offsets(p0)).logStartOffset() == 4);
        assertEquals(4, await(b.listOffset(p0, OffsetSpec.EARLIEST, IsolationLevel.READ_UNCOMMITTED)).offset());
        assertEquals(ErrorCode.OFFSET_OUT_OF_RANGE.code(), errorOf(b.fetch(p0, 1, 1 << 20, true, IsolationLevel.READ_UNCOMMITTED)));
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
    void groupsOffsetsAndTransactionsAreSharedAndSurviveARestart() {
        Storage a = openStorage(1);
        Storage b = openStorage(2);
        await(a.createTopic(new NewTopic("t", 2), false));
        // b sees a's topic without a restart: a lookup on a miss
        assertEquals(1, await(b.describeTopics(List.of(kiri.storage.api.TopicRef.of("t")))).size());

        // committed offsets and group state with compare-and-set, across brokers
        await(a.commitOffsets("g", List.of(new OffsetCommit(p0, 42, 3, "m", -1L))));
        assertEquals(42, await(b.fetchOffsets("g", List.of(p0), false)).get(p0).offset());
        assertEquals(GroupState.NO_VERSION, await(b.group("g")).orElseThrow().version(), "offsets only");
        GroupState v1 = await(a.updateGroup(new GroupState("g", "classic", "consumer", "Stable", new byte[] {1}, GroupState.NO_VERSION)));
        assertTrue(v1.version() > 0);
        assertTrue(StorageException.unwrap(assertThrows(RuntimeException.class, () -> await(b.updateGroup(
                new GroupState("g", "classic", "consumer", "Empty", new byte[] {2}, GroupState.NO_VERSION))))) instanceof VersionConflictException);
        GroupState v2 = await(b.updateGroup(new GroupState("g", "classic", "consumer", "Empty", new byte[] {2}, v1.version())));
        assertEquals(List.of("Empty"), await(a.listGroups()).stream().map(l -> l.state()).toList());
        await(a.updateGroup(new GroupState("g", "classic", "consumer", "Stable", new byte[0], v2.version())));
        assertEquals(ErrorCode.NON_EMPTY_GROUP.code(), errorOf(b.deleteGroup("g")), "a group with members stays");

        // producer ids never repeat between brokers
        java.util.Set<Long> ids = new java.util.HashSet<>();
        for (int i = 0; i < 5; i++) {
            assertTrue(ids.add(await(a.initProducerId(null, 1000, ProducerIdAndEpoch.NONE)).producerId()));
            assertTrue(ids.add(await(b.initProducerId(null, 1000, ProducerIdAndEpoch.NONE)).producerId()));
        }

        // a transaction begun on a, with offsets, committed through b
        ProducerIdAndEpoch pid = await(a.initProducerId("tx", 60_000, ProducerIdAndEpoch.NONE));
        assertTrue(ids.add(pid.producerId()));
        await(a.addPartitionsToTxn("tx", pid, List.of(p0)));
        produce(a, "tx", p0, KafkaBatches.transactional(pid.producerId(), pid.epoch(), 0, 2));
        await(b.addOffsetsToTxn("tx", pid, "g2"));
        await(b.txnOffsetCommit("tx", pid, "g2", List.of(new OffsetCommit(p0, 7))));
        assertEquals(ErrorCode.UNSTABLE_OFFSET_COMMIT.code(), errorOf(a.fetchOffsets("g2", List.of(p0), true)));
        assertEquals(kiri.storage.api.TransactionState.ONGOING, await(b.describeTransactions(List.of("tx"))).getFirst().state());
        await(b.endTxn("tx", pid, true, false));
        assertEquals(7, await(a.fetchOffsets("g2", List.of(p0), true)).get(p0).offset());
        assertEquals(3L, eventually(() -> await(a.offsets(p0)).lastStableOffset(), 3L), "data and b's commit marker");
        assertEquals(2, produce(b, null, new TopicPartition("t", 1), KafkaBatches.plain(3)) + 2);

        // everything is still there after both restart
        a.close();
        b.close();
        Storage c = openStorage(1);
        assertEquals(42, await(c.fetchOffsets("g", List.of(p0), false)).get(p0).offset());
        assertEquals("Stable", await(c.group("g")).orElseThrow().state());
        kiri.storage.api.TransactionDescription d = await(c.describeTransactions(null)).getFirst();
        assertEquals(kiri.storage.api.TransactionState.COMPLETE_COMMIT, d.state());
        ProducerIdAndEpoch bumped = await(c.initProducerId("tx", 60_000, ProducerIdAndEpoch.NONE));
        assertEquals(new ProducerIdAndEpoch(pid.producerId(), (short) (pid.epoch() + 1)), bumped, "the epoch continues");
        assertTrue(ids.add(await(c.initProducerId(null, 1000, ProducerIdAndEpoch.NONE)).producerId()), "no id reused after a restart");
        assertEquals(ErrorCode.PRODUCER_FENCED.code(), errorOf(c.addPartitionsToTxn("tx", pid, List.of(p0))));
    }

    @Test
    void topicChangesReachOtherBrokersByNotification() {
        Storage a = openStorage(1);
        Storage b = openStorage(2);
        await(a.createTopic(new NewTopic("n", 1), false));
        assertEquals(List.of("n"), eventually(() -> await(b.listTopics()).stream().map(TopicInfo::name).toList(), List.of("n")));
        await(a.createPartitions("n", 3, false));
        assertEquals(3, eventually(() -> await(b.listTopics()).getFirst().partitionCount(), 3));
        await(a.deleteTopic(kiri.storage.api.TopicRef.of("n")));
        assertEquals(List.of(), eventually(() -> await(b.listTopics()).stream().map(TopicInfo::name).toList(), List.of()));
    }

    /** Polls {@code value} until it equals {@code expected} (generous deadline), returning the last value. */
    private static <T> T eventually(java.util.function.Supplier<T> value, T expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        T v = value.get();
        while (!v.equals(expected) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            v = value.get();
        }
        return v;
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
        assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), wrong.errorCode());
    }
}
