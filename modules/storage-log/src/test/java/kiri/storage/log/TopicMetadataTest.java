package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static kiri.storage.log.Harness.errorOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import kiri.protocol.ErrorCode;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Topic metadata at scale: one file per topic, partitions opened on first use (no directory, descriptor or mapping
 * for an idle one), topics.meta of older directories migrated, failed creates leaving nothing behind.
 */
class TopicMetadataTest {
    static final int TOPICS = 2_000;

    @TempDir
    Path dir;

    @Test
    void twoThousandTopicsSurviveARestartWithoutOpeningIdlePartitions() throws Exception {
        long fdsBefore = openDescriptors();
        try (LogStorage s = Harness.open(dir)) {
            for (int i = 0; i < TOPICS; i++) Harness.topic(s, name(i));
            await(s.produce(null, new TopicPartition(name(7), 0), KafkaBatches.plain("r", 3, 1_000L)));
            assertEquals(1, dirs(dir.resolve("data")), "only the partition that was used has a directory");
            assertEquals(TOPICS, count(dir.resolve("topics")), "one file per topic");
            assertFalse(Files.exists(dir.resolve(TopicStore.LEGACY_FILE)));
        }
        try (LogStorage s = Harness.open(dir)) {
            List<TopicInfo> topics = Harness.topics(s);
            assertEquals(TOPICS, topics.size());
            for (int i = 0; i < TOPICS; i++) assertEquals(name(i), topics.get(i).name());
            assertTrue(openDescriptors() - fdsBefore < 100, "idle partitions hold no descriptor: " + (openDescriptors() - fdsBefore));
            assertEquals(3, await(s.offsets(new TopicPartition(name(7), 0))).highWatermark(), "the used partition kept its records");
            assertEquals(0, await(s.offsets(new TopicPartition(name(8), 0))).highWatermark(), "an idle one opens on first use");
            await(s.deleteTopic(kiri.storage.api.TopicRef.of(name(8))));
            await(s.deleteTopic(kiri.storage.api.TopicRef.of(name(9))));
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(TOPICS - 2, Harness.topics(s).size(), "deletions persist");
            assertEquals(1, dirs(dir.resolve("data")));
        }
    }

    @Test
    void topicsMetaOfAnOlderDirectoryIsMigrated() throws Exception {
        TopicInfo info;
        try (LogStorage s = Harness.open(dir)) {
            info = Harness.topic(s, "old", 2, Map.of("retention.ms", "1000"));
            await(s.produce(null, new TopicPartition("old", 1), KafkaBatches.plain("r", 2, 1_000L)));
        }
        // rewrite the metadata as the previous layout had it: one topics.meta, no topics/
        for (Path f : list(dir.resolve("topics"))) Files.delete(f);
        Files.delete(dir.resolve("topics"));
        Files.write(dir.resolve(TopicStore.LEGACY_FILE), formatVersion1(LegacyMetaWriter.topics(List.of(
                new MetaCodec.StoredTopic("old", info.id(), 2, (short) 1, Map.of("retention.ms", "1000"))))));
        try (LogStorage s = Harness.open(dir)) {
            TopicInfo t = Harness.topics(s).getFirst();
            assertEquals(info.id(), t.id());
            assertEquals(Map.of("retention.ms", "1000"), t.configs());
            assertEquals(2, await(s.offsets(new TopicPartition("old", 1))).highWatermark(), "the records are still there");
            assertFalse(Files.exists(dir.resolve(TopicStore.LEGACY_FILE)), "migrated");
            assertEquals(List.of(dir.resolve("topics").resolve(KafkaUuid.toString(info.id()) + TopicStore.SUFFIX)), list(dir.resolve("topics")));
        }
    }

    /** The content as Kiri wrote it before metadata files had a checksum: format version 1, no CRC32C at the end. */
    static byte[] formatVersion1(byte[] current) {
        byte[] old = Arrays.copyOf(current, current.length - 4);
        old[3] = 1;
        return old;
    }

    @Test
    void aCorruptTopicsMetaStopsTheOpenNamingItAndMigratesNothing() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
        }
        for (Path f : list(dir.resolve("topics"))) Files.delete(f);
        byte[] legacy = formatVersion1(LegacyMetaWriter.topics(List.of(
                new MetaCodec.StoredTopic("old", KafkaUuid.random(), 1, (short) 1, Map.of("retention.ms", "1000")))));
        Path file = dir.resolve(TopicStore.LEGACY_FILE);
        Files.write(file, Arrays.copyOf(legacy, legacy.length - 3));
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir));
        assertTrue(e.getMessage().startsWith("cannot open file:" + dir + ": " + file + " is corrupt at byte "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(Files.exists(file), "kept for the operator");
        assertEquals(0, count(dir.resolve("topics")), "nothing migrated");
    }

    @Test
    void metadataOfAnUnknownVersionFailsWithOneLineNamingIt() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "t");
        }
        Path f = list(dir.resolve("topics")).getFirst();
        Files.write(f, new byte[] {0, 0, 0, 9, 1, 2});
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("version 9"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    /**
     * A create whose write fails (here: the topics directory replaced by a file) changes nothing: no topic, no
     * directory, no temp file, no descriptor; the next create works.
     */
    @Test
    void aCreateThatFailsLeavesNothing() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            Harness.topic(s, "kept");
            Path topics = dir.resolve("topics");
            Path moved = dir.resolve("topics-moved");
            Files.move(topics, moved);
            Files.writeString(topics, "not a directory");
            long fds = openDescriptors();
            for (int i = 0; i < 50; i++) {
                assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), errorOf(s.createTopic(new NewTopic("new" + i, 4, (short) 1, Map.of()), false)));
            }
            assertEquals(fds, openDescriptors(), "no descriptor leaked");
            assertEquals(List.of("kept"), Harness.topics(s).stream().map(TopicInfo::name).toList(), "the catalog is unchanged");
            assertEquals(0, dirs(dir.resolve("data")));
            Files.delete(topics);
            Files.move(moved, topics);
            Harness.topic(s, "new0", 4, Map.of());
        }
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(List.of("kept", "new0"), Harness.topics(s).stream().map(TopicInfo::name).toList());
        }
    }

    /**
     * A topic whose file cannot be deleted (here: a non-empty directory in its place) is deleted all the same, data
     * first; housekeeping retries its file, and until that works a topic of the same name cannot be created (two
     * files of one name would meet at the next open) and a close does not mark the shutdown clean.
     */
    @Test
    void aTopicWhoseFileCannotBeDeletedIsDeletedAndItsFileRetried() throws Exception {
        Path blocker;
        try (LogStorage s = Harness.open(dir)) {
            TopicInfo gone = Harness.topic(s, "gone");
            await(s.produce(null, new TopicPartition("gone", 0), KafkaBatches.plain("r", 3, 1_000L)));
            blocker = block(gone);
            await(s.deleteTopic(kiri.storage.api.TopicRef.of("gone")));
            assertEquals(List.of(), Harness.topics(s));
            assertEquals(0, dirs(dir.resolve("data")), "the data is deleted at once");
            assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), errorOf(s.createTopic(new NewTopic("gone", 1, (short) 1, Map.of()), false)));
            await(s.maintain(0));
            assertTrue(Files.exists(blocker), "still failing");
        }
        assertFalse(Files.exists(dir.resolve(CleanShutdown.FILE)), "metadata lagged: not a clean shutdown");
        Files.delete(blocker);
        Files.delete(blocker.getParent());
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(List.of(), Harness.topics(s));
            blocker = block(Harness.topic(s, "other"));
            await(s.deleteTopic(kiri.storage.api.TopicRef.of("other")));
            Files.delete(blocker);
            await(s.maintain(0)); // the retry works now
            assertEquals(0, count(dir.resolve("topics")), "the file is gone");
            Harness.topic(s, "other");
        }
        assertTrue(Files.exists(dir.resolve(CleanShutdown.FILE)));
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(List.of("other"), Harness.topics(s).stream().map(TopicInfo::name).toList());
        }
    }

    /** Puts a non-empty directory where the topic's file is, so that deleting the file fails; returns the file in it. */
    private Path block(TopicInfo t) throws IOException {
        Path file = dir.resolve("topics").resolve(KafkaUuid.toString(t.id()) + TopicStore.SUFFIX);
        Files.delete(file);
        return Files.createFile(Files.createDirectories(file).resolve("blocker"));
    }

    static String name(int i) {
        return String.format("topic-%05d", i);
    }

    static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    static long dirs(Path p) throws IOException {
        try (Stream<Path> s = Files.list(p)) {
            return s.filter(Files::isDirectory).count();
        }
    }

    static long count(Path p) throws IOException {
        try (Stream<Path> s = Files.list(p)) {
            return s.count();
        }
    }

    static List<Path> list(Path p) throws IOException {
        try (Stream<Path> s = Files.list(p)) {
            return new ArrayList<>(s.sorted().toList());
        }
    }
}
