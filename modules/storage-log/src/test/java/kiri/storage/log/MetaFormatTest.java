package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;
import kiri.storage.kit.GroupTable;
import kiri.storage.kit.TransactionTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metadata files are generated records with a version: a directory written by the hand-written format 2 (the
 * committed fixture {@code kiri-data-format2}, made by that code: topics with configs, a group with state and
 * offsets whose ids and metadata hold non-ASCII text, an ongoing transaction with pending offsets, credentials and
 * ACLs) opens with everything in it and migrates file by file; a file from a newer Kiri stops the open with one line
 * naming the file and the version.
 */
class MetaFormatTest {
    static final Path FIXTURE = Path.of("src/test/resources/kiri-data-format2");
    static final String GROUP = "grüppe-😀";
    static final String TXN = "tx-😀";
    static final TopicPartition ORDERS_1 = new TopicPartition("orders", 1);
    static final TopicPartition PLAIN_0 = new TopicPartition("plain", 0);

    @TempDir
    Path dir;

    @Test
    void aFormat2DirectoryOpensWithEverythingInItAndMigratesAsItChanges() throws IOException {
        copyFixture();
        try (LogStorage s = Harness.open(dir)) {
            assertEverythingFromTheFixture(s);
            long reservedEnd = MetaCodec.longValue(Files.readAllBytes(FIXTURE.resolve("producer-ids.meta")));
            assertTrue(reservedEnd > 0);
            assertEquals(reservedEnd, await(s.initProducerId(null, 60_000, ProducerIdAndEpoch.NONE)).producerId(),
                    "the next producer id comes after the block the old file reserved");
            await(s.commitOffsets(GROUP, List.of(new OffsetCommit(PLAIN_0, 8, -1, "ü", -1L))));
            await(s.alterTopicConfigs("orders", List.of(), false));
        }
        assertEquals(MetaCodec.FORMAT, format(single(dir.resolve("groups"))), "the changed group file is in the current format");
        try (LogStorage s = Harness.open(dir)) {
            Map<TopicPartition, CommittedOffset> offsets = await(s.fetchOffsets(GROUP, List.of(ORDERS_1, PLAIN_0), false));
            assertEquals(42L, offsets.get(ORDERS_1).offset());
            assertEquals("meta-ü😀", offsets.get(ORDERS_1).metadata());
            assertEquals(8L, offsets.get(PLAIN_0).offset());
            assertEquals("ü", offsets.get(PLAIN_0).metadata());
            assertArrayEquals(new byte[] {1, 2, 3}, await(s.group(GROUP)).orElseThrow().data());
        }
    }

    private void assertEverythingFromTheFixture(LogStorage s) {
        assertEquals("SGjyMrVeSJmPKZd4NHOmyg", s.clusterId());
        Map<String, TopicInfo> topics = new java.util.HashMap<>();
        for (TopicInfo t : Harness.topics(s)) topics.put(t.name(), t);
        assertEquals(2, topics.size());
        assertEquals(2, topics.get("orders").partitionCount());
        assertEquals(Map.of("retention.ms", "86400000", "cleanup.policy", "delete"), topics.get("orders").configs());
        assertEquals(Map.of(), topics.get("plain").configs());

        Map<TopicPartition, CommittedOffset> offsets = await(s.fetchOffsets(GROUP, List.of(ORDERS_1, PLAIN_0), false));
        assertEquals(42L, offsets.get(ORDERS_1).offset());
        assertEquals(3, offsets.get(ORDERS_1).leaderEpoch());
        assertEquals("meta-ü😀", offsets.get(ORDERS_1).metadata(), "modified UTF-8 of the old format read back");
        assertEquals(7L, offsets.get(PLAIN_0).offset());
        assertNull(offsets.get(PLAIN_0).metadata());
        GroupState state = await(s.group(GROUP)).orElseThrow();
        assertEquals("classic", state.type());
        assertEquals("consumer", state.protocolType());
        assertEquals("Stable", state.state());
        assertArrayEquals(new byte[] {1, 2, 3}, state.data());

        List<TransactionDescription> txns = await(s.describeTransactions(List.of(TXN)));
        assertEquals(1, txns.size());
        assertEquals(0L, txns.getFirst().producerId());
        assertEquals(TransactionState.ONGOING, txns.getFirst().state());
        assertEquals(List.of(ORDERS_1), List.copyOf(txns.getFirst().partitions()));

        assertEquals("User:bob", await(s.security()).acls().getFirst().principal());
        assertEquals(8192, await(s.security()).scram().getFirst().iterations());
    }

    @Test
    void aRecordOfANewerVersionStopsTheOpenWithOneLineNamingTheFileAndVersion() throws IOException {
        copyFixture();
        Path topic = single(dir.resolve("topics"), "Paw");
        Files.write(topic, currentFormat((short) 9, new byte[] {0}));
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir));
        assertTrue(e.getMessage().contains(topic + " holds a TopicValue of version 9, which this Kiri does not read (it reads versions 0 to 0"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aFileOfANewerFormatStopsTheOpenNamingIt() throws IOException {
        copyFixture();
        Path group = single(dir.resolve("groups"));
        byte[] content = Files.readAllBytes(group);
        content[3] = 4;
        Files.write(group, content);
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir));
        assertTrue(e.getMessage().contains(group + " has metadata format version 4, which is not supported (this Kiri reads versions 1 to 3"),
                e.getMessage());
    }

    @Test
    void aDamagedCurrentFileFailsItsChecksum() {
        byte[] content = MetaCodec.longValue(77L);
        assertEquals(77L, MetaCodec.longValue(content));
        content[7] ^= 1;
        CorruptMetadataException e = assertThrows(CorruptMetadataException.class, () -> MetaCodec.longValue(content));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    }

    @Test
    void everyRecordRoundTrips() {
        MetaCodec.StoredTopic topic = new MetaCodec.StoredTopic("t", java.util.UUID.randomUUID(), 3, (short) 1, Map.of("a", "ü😀", "b", ""));
        assertEquals(topic, MetaCodec.topic(MetaCodec.topic(topic)));
        assertEquals("id-😀", MetaCodec.string(MetaCodec.string("id-😀")));
        assertEquals(Map.of("t-0", 5L, "u-1", 0L), MetaCodec.cleanShutdown(MetaCodec.cleanShutdown(Map.of("t-0", 5L, "u-1", 0L))));
        List<long[]> gaps = MetaCodec.acceptedGaps(MetaCodec.acceptedGaps(List.of(new long[] {1, 4}, new long[] {9, 12})));
        assertArrayEquals(new long[] {9, 12}, gaps.get(1));

        GroupTable.Snapshot group = new GroupTable.Snapshot("g", null, Map.of(PLAIN_0, new CommittedOffset(4, -1, null, 10L, -1L)));
        GroupTable.Snapshot read = MetaCodec.group(MetaCodec.group(group));
        assertNull(read.state());
        assertEquals(group.offsets(), read.offsets());

        OffsetCommit pending = new OffsetCommit(ORDERS_1, 50, 3, null, -1L);
        TransactionTable.Snapshot txn = new TransactionTable.Snapshot("x", new ProducerIdAndEpoch(5, (short) 2), new ProducerIdAndEpoch(5, (short) 1),
                1000, TransactionState.ONGOING, 77L, List.of(ORDERS_1), Map.of("g", Map.of(ORDERS_1, pending)));
        TransactionTable.Snapshot back = MetaCodec.txn(MetaCodec.txn(txn));
        assertEquals(txn.producer(), back.producer());
        assertEquals(txn.previous(), back.previous());
        assertEquals(txn.partitions(), back.partitions());
        assertEquals(txn.pendingOffsets(), back.pendingOffsets());
        assertEquals(77L, back.startMs());
    }

    /** A file of the current format: {@code record} behind {@code version}, with a valid checksum. */
    private static byte[] currentFormat(short version, byte[] record) {
        ByteBuffer b = ByteBuffer.allocate(4 + 2 + record.length + 4);
        b.putInt(MetaCodec.FORMAT).putShort(version).put(record);
        b.putInt(CorruptMetadataException.crc(b.array(), b.position()));
        return b.array();
    }

    private static int format(Path file) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(file)).getInt();
    }

    private static Path single(Path folder) throws IOException {
        return single(folder, "");
    }

    private static Path single(Path folder, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList();
            assertEquals(1, found.size(), folder + ": " + found);
            return found.getFirst();
        }
    }

    private void copyFixture() throws IOException {
        try (Stream<Path> all = Files.walk(FIXTURE)) {
            for (Path p : all.toList()) {
                Path target = dir.resolve(FIXTURE.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
