package kiri.storage.log;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import kiri.protocol.ErrorCode;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.kit.GroupTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static kiri.storage.log.Harness.await;
import static kiri.storage.log.Harness.errorOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Group ids and transactional ids of any length Kafka accepts (up to 32767 bytes) are stored and survive a restart
 * (they were once file names, which the file system caps at 255 characters); files named the old way still open;
 * and a commit whose write fails is never visible, before or after a restart.
 */
class LongIdsTest {
    static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    static String id(char c, int bytes) {
        return String.valueOf(c).repeat(bytes);
    }

    @Test
    void groupIdsOf200And32767BytesKeepTheirOffsetsAcrossARestart() {
        List<String> ids = List.of(id('g', 200), id('h', 32767), "short");
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            for (int i = 0; i < ids.size(); i++) await(s.commitOffsets(ids.get(i), List.of(new OffsetCommit(TP, 10 + i, -1, "m", -1L))));
            for (int i = 0; i < ids.size(); i++) assertEquals(10 + i, committed(s, ids.get(i)));
        }
        try (LogStorage s = Harness.open(dir)) {
            for (int i = 0; i < ids.size(); i++) assertEquals(10 + i, committed(s, ids.get(i)), "after a restart: group of " + ids.get(i).length());
            assertEquals(ids.size(), await(s.listGroups()).size());
            await(s.deleteGroup(ids.get(1)));
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(-1L, committed(s, ids.get(1)), "a deleted long group stays deleted");
            assertEquals(10L, committed(s, ids.get(0)));
        }
    }

    @Test
    void transactionalIdsOf200And32767BytesSurviveARestart() {
        List<String> ids = List.of(id('x', 200), id('y', 32767));
        ProducerIdAndEpoch[] first = new ProducerIdAndEpoch[ids.size()];
        try (LogStorage s = Harness.open(dir)) {
            for (int i = 0; i < ids.size(); i++) first[i] = await(s.initProducerId(ids.get(i), 60_000, ProducerIdAndEpoch.NONE));
        }
        try (LogStorage s = Harness.open(dir)) {
            List<TransactionDescription> described = await(s.describeTransactions(ids));
            assertEquals(ids.size(), described.size());
            for (int i = 0; i < ids.size(); i++) {
                assertEquals(first[i].producerId(), described.get(i).producerId(), "the id's producer after a restart");
                ProducerIdAndEpoch again = await(s.initProducerId(ids.get(i), 60_000, ProducerIdAndEpoch.NONE));
                assertEquals(first[i].producerId(), again.producerId());
                assertEquals(first[i].epoch() + 1, again.epoch(), "re-initialising bumps the stored epoch");
            }
        }
    }

    /** A directory where the group's file goes makes its write fail (root ignores permissions, not this). */
    @Test
    void aCommitWhoseWriteFailsIsNeverVisible() throws Exception {
        String group = id('f', 200);
        Path blocker = dir.resolve("groups").resolve(IdFiles.digest(group) + ".group");
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
            Files.createDirectories(blocker.resolve("x"));
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), errorOf(s.commitOffsets(group, List.of(new OffsetCommit(TP, 5, -1, null, -1L)))));
            assertEquals(-1L, committed(s, group), "OffsetFetch does not return an offset whose commit failed");
            assertTrue(await(s.listGroups()).isEmpty());
            try (Stream<Path> files = Files.list(blocker.getParent())) {
                assertEquals(List.of(blocker), files.toList(), "no temp file left behind");
            }
            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
            await(s.commitOffsets(group, List.of(new OffsetCommit(TP, 6, -1, null, -1L))));
            assertEquals(6L, committed(s, group), "the next commit works");
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(6L, committed(s, group));
        }
    }

    @Test
    void anInitProducerIdWhoseWriteFailsIsNeverVisible() throws Exception {
        String txn = id('t', 200);
        Path blocker = dir.resolve("txns").resolve(IdFiles.digest(txn) + ".txn");
        try (LogStorage s = Harness.open(dir)) {
            Files.createDirectories(blocker.resolve("x"));
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), errorOf(s.initProducerId(txn, 60_000, ProducerIdAndEpoch.NONE)));
            assertTrue(await(s.describeTransactions(List.of(txn))).isEmpty(), "the transactional id is unknown");
            Files.delete(blocker.resolve("x"));
            Files.delete(blocker);
            ProducerIdAndEpoch p = await(s.initProducerId(txn, 60_000, ProducerIdAndEpoch.NONE));
            assertEquals(0, p.epoch(), "a fresh id starts at epoch 0: the failed attempt left nothing");
        }
    }

    /** Directories written before the digest names: files named by the hex of the id still open and stay in use. */
    @Test
    void filesNamedByTheHexOfTheIdStillOpen() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
        }
        String group = "legacy-group";
        Path legacy = dir.resolve("groups").resolve(hex(group) + ".group");
        Files.write(legacy, LegacyMetaWriter.offsetsOnlyGroup(new GroupTable.Snapshot(group, null,
                Map.of(TP, new CommittedOffset(42, -1, null, 1L, -1L)))));
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(42L, committed(s, group));
            await(s.commitOffsets(group, List.of(new OffsetCommit(TP, 43, -1, null, -1L))));
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(43L, committed(s, group));
            try (Stream<Path> files = Files.list(dir.resolve("groups"))) {
                assertEquals(List.of(legacy), files.toList(), "the id keeps its one file");
            }
        }
    }

    /** Two ids whose names would clash get different files; each reads back its own id. */
    @Test
    void idsWhoseDigestNamesClashGetTheirOwnFiles() {
        IdFiles files = new IdFiles(dir, ".group");
        Path taken = dir.resolve(IdFiles.digest("b") + ".group");
        files.loaded("a", taken); // as if "a" had been stored under "b"'s name
        Path b = files.file("b");
        assertEquals(dir.resolve(IdFiles.digest("b") + "-1.group"), b);
        assertEquals(taken, files.file("a"));
        assertEquals(b, files.file("b"), "stable");
    }

    private static String hex(String s) {
        return HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8));
    }

    private static long committed(LogStorage s, String group) {
        CommittedOffset c = await(s.fetchOffsets(group, List.of(TP), false)).get(TP);
        return c == null ? -1L : c.offset();
    }
}
