package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.AclEntry;
import kiri.storage.api.FetchResult;
import kiri.storage.api.GroupState;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.ScramCredential;
import kiri.storage.api.SecurityState;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bit flips and truncations at many positions of every kind of file the {@code file:} engine writes (segment logs at
 * batch headers, CRCs, length fields and record bodies; both indexes; every metadata file), after a clean and after an
 * unclean shutdown. For each case: either every intact batch is still there, byte for byte, at its offset, and no
 * offset is handed out again; or the open refuses naming the damaged file (and for a segment, {@code recover=truncate}
 * then opens it, keeping every intact batch before the damage and, where it can see them, after it). The one loss
 * allowed without the operator is the torn tail of the last segment after an unclean shutdown.
 */
class CorruptionMatrixTest {
    static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    /** A batch as the golden log holds it. */
    record Stored(String file, long pos, byte[] bytes, long base, long next) {}

    /** A damage: in {@code file}, flip the byte at {@code at}, or (truncate) cut the file to {@code at} bytes. */
    record Damage(String file, long at, boolean truncate) {
        @Override
        public String toString() {
            return (truncate ? "cut " : "flip ") + file + " at " + at;
        }
    }

    @Test
    void noDamageLosesIntactDataSilentlyOrReusesOffsets() throws Exception {
        Path golden = dir.resolve("golden");
        Harness.Clock clock = new Harness.Clock();
        try (LogStorage s = Harness.open(golden, "", clock)) {
            Harness.topic(s, "t", 1, Map.of("segment.ms", "1000"));
            for (int i = 0; i < 8; i++) LogRecordsTest.produce(s, TP, KafkaBatches.plain("a" + i + "-".repeat(200), 5, 1_000L + i));
            clock.advance(2_000);
            for (int i = 0; i < 8; i++) LogRecordsTest.produce(s, TP, KafkaBatches.plain("b" + i + "-".repeat(200), 5, 5_000L + i));
            ProducerIdAndEpoch tx = await(s.initProducerId("tx", 60_000, ProducerIdAndEpoch.NONE));
            await(s.addPartitionsToTxn("tx", tx, List.of(TP)));
            await(s.produce("tx", TP, KafkaBatches.transactional(tx.producerId(), tx.epoch(), 0, 2)));
            await(s.endTxn("tx", tx, true, false));
            await(s.initProducerId(null, 60_000, ProducerIdAndEpoch.NONE));
            await(s.commitOffsets("g", List.of(new OffsetCommit(TP, 3))));
            await(s.updateGroup(new GroupState("g", "classic", "consumer", "Empty", new byte[] {1, 2}, GroupState.NO_VERSION)));
            await(s.deleteRecords(TP, 1));
            await(s.saveSecurity(new SecurityState(
                    List.of(new ScramCredential("alice", "SCRAM-SHA-256", new byte[] {1}, new byte[] {2}, new byte[] {3}, 4096)),
                    List.of(new AclEntry((byte) 2, "t", (byte) 3, "User:alice", "*", (byte) 3, (byte) 3)))));
        }
        Path partition;
        try (Stream<Path> d = Files.list(golden.resolve("data"))) {
            partition = d.findFirst().orElseThrow();
        }
        List<String> logs = names(partition, ".log");
        assertTrue(logs.size() == 2, "two segments: " + logs);
        List<Stored> stored = new ArrayList<>();
        for (String log : logs) stored.addAll(batches(golden, golden.relativize(partition.resolve(log)).toString()));
        long end = stored.getLast().next();

        List<Damage> damages = new ArrayList<>();
        for (String log : logs) {
            String file = golden.relativize(partition.resolve(log)).toString();
            List<Stored> in = stored.stream().filter(b -> b.file().equals(file)).toList();
            for (Stored b : List.of(in.getFirst(), in.get(in.size() / 2), in.getLast())) {
                for (long at : new long[] {0, 8, 16, 17, 23, RecordBatch.HEADER_SIZE + 3, b.bytes().length - 1}) {
                    damages.add(new Damage(file, b.pos() + at, false));
                }
            }
            Stored mid = in.get(in.size() / 2);
            for (long at : new long[] {0, mid.pos() + 30, in.getLast().pos(), in.getLast().pos() + in.getLast().bytes().length - 1}) {
                damages.add(new Damage(file, at, true));
            }
        }
        for (String suffix : List.of(".index", ".timeindex")) {
            for (String index : names(partition, suffix)) {
                String file = golden.relativize(partition.resolve(index)).toString();
                long size = Files.size(golden.resolve(file));
                for (long at : new long[] {0, 3, 8, 12}) if (at < size) damages.add(new Damage(file, at, false));
                damages.add(new Damage(file, 0, true));
            }
        }
        List<String> metas = new ArrayList<>(List.of("cluster.meta", "producer-ids.meta", SecurityFile.NAME,
                golden.relativize(partition.resolve(PartitionLog.LOG_START_FILE)).toString()));
        // one file per topic, and group and transaction files named by the digest of their id
        for (String sub : List.of("topics", "groups", "txns")) for (String f : names(golden.resolve(sub), "")) metas.add(sub + "/" + f);
        assertTrue(metas.stream().anyMatch(m -> m.startsWith("topics/") && m.endsWith(TopicStore.SUFFIX)), "a topic file: " + metas);
        assertTrue(metas.stream().anyMatch(m -> m.equals("groups/" + IdFiles.digest("g") + ".group")), "a digest-named group file: " + metas);
        assertTrue(metas.stream().anyMatch(m -> m.equals("txns/" + IdFiles.digest("tx") + ".txn")), "a digest-named txn file: " + metas);
        for (String meta : metas) {
            long size = Files.size(golden.resolve(meta));
            for (long at : new long[] {0, 5, size / 2, size - 1}) damages.add(new Damage(meta, at, false));
            for (long at : new long[] {0, size / 2}) damages.add(new Damage(meta, at, true));
        }

        List<String> failures = new ArrayList<>();
        int refused = 0;
        int cases = 0;
        for (boolean clean : new boolean[] {true, false}) {
            for (Damage d : damages) {
                cases++;
                Path copy = dir.resolve("case-" + cases);
                copy(golden, copy);
                if (!clean) Files.delete(copy.resolve(CleanShutdown.FILE));
                damage(copy.resolve(d.file()), d);
                String label = (clean ? "clean, " : "unclean, ") + d;
                try {
                    if (!check(copy, "fsync=never", stored, end, d, clean, label, failures)) refused++;
                } catch (RuntimeException | AssertionError e) {
                    failures.add(label + ": " + e);
                }
            }
        }
        System.out.printf("corruption matrix: %d cases, %d refused with the file named, %d failures%n", cases, refused, failures.size());
        assertTrue(failures.isEmpty(), failures.size() + " failures:\n" + String.join("\n", failures));
    }

    /** Opens {@code copy} and checks the outcome; false if the open refused (correctly). */
    private boolean check(Path copy, String params, List<Stored> stored, long end, Damage d, boolean clean, String label,
                          List<String> failures) throws Exception {
        boolean segment = d.file().endsWith(".log");
        LogStorage s;
        try {
            s = Harness.open(copy, params, new Harness.Clock());
        } catch (StorageException e) {
            String name = Path.of(d.file()).getFileName().toString();
            if (!e.getMessage().contains(name)) failures.add(label + ": refused without naming " + name + ": " + e.getMessage());
            if (d.file().contains(".index") || d.file().contains(".timeindex")) failures.add(label + ": a damaged index must be rebuilt: " + e.getMessage());
            if (segment && !params.contains("truncate")) check(copy, params + "&recover=truncate", stored, end, d, clean, label + " (recover=truncate)", failures);
            return false;
        }
        try (s) {
            Map<Long, byte[]> read = readBack(s);
            long hwm = await(s.offsets(TP)).highWatermark();
            long damagedFrom = Long.MAX_VALUE; // position in d.file() of the first batch the damage touched
            for (Stored b : stored) {
                if (b.file().equals(d.file()) && touches(b, d)) damagedFrom = Math.min(damagedFrom, b.pos());
            }
            boolean truncating = params.contains("truncate");
            boolean lastSegment = d.file().equals(stored.getLast().file());
            long lostFrom = Long.MAX_VALUE;
            for (Stored b : stored) {
                if (b.next() <= 1) continue; // below the log start offset
                boolean afterDamage = b.file().equals(d.file()) && b.pos() >= damagedFrom;
                byte[] got = read.get(b.base());
                if (afterDamage && (truncating || !clean && lastSegment)) {
                    if (got == null) lostFrom = Math.min(lostFrom, b.base());
                    continue; // the operator accepted the loss, or a torn tail after a crash
                }
                if (b.file().equals(d.file()) && touches(b, d)) continue; // the damaged batch itself: served as stored or refused
                if (got == null || !Arrays.equals(got, b.bytes())) failures.add(label + ": intact batch at " + b.base() + (got == null ? " lost" : " changed") + " (read back " + new java.util.TreeSet<>(read.keySet()) + ", hwm " + hwm + ")");
            }
            long minEnd = lostFrom == Long.MAX_VALUE ? end : lostFrom;
            if (hwm < minEnd) failures.add(label + ": offsets reused: high watermark " + hwm + ", expected at least " + minEnd);
            // a cut file holds nothing more to cut; a flip's loss must have been a logged truncation
            if (lostFrom != Long.MAX_VALUE && !d.truncate() && s.partitionLog(TP).truncatedBytes == 0) {
                failures.add(label + ": lost data without a truncation");
            }
            long next = LogRecordsTest.produce(s, TP, KafkaBatches.plain(1));
            if (next != hwm) failures.add(label + ": the next produce got " + next + ", not the high watermark " + hwm);
        }
        return true;
    }

    private static boolean touches(Stored b, Damage d) {
        return d.truncate() ? b.pos() + b.bytes().length > d.at() : b.pos() <= d.at() && d.at() < b.pos() + b.bytes().length;
    }

    /** Every batch readable from the log start, by base offset, read batch header by batch header (no CRC check). */
    private static Map<Long, byte[]> readBack(LogStorage s) throws Exception {
        Map<Long, byte[]> out = new HashMap<>();
        long from = await(s.offsets(TP)).logStartOffset();
        long hwm = await(s.offsets(TP)).highWatermark();
        while (from < hwm) {
            byte[] bytes;
            try (FetchResult r = await(s.fetch(TP, from, Integer.MAX_VALUE, true, IsolationLevel.READ_UNCOMMITTED))) {
                bytes = Batches.bytes(r);
            }
            if (bytes.length == 0) break;
            MemorySegment all = MemorySegment.ofArray(bytes);
            for (long pos = 0; pos + RecordBatch.HEADER_SIZE <= bytes.length; ) {
                MemorySegment h = all.asSlice(pos);
                int size = (int) RecordBatch.sizeInBytes(h);
                out.put(RecordBatch.baseOffset(h), Arrays.copyOfRange(bytes, (int) pos, (int) pos + size));
                from = RecordBatch.nextOffset(h, RecordBatch.baseOffset(h));
                pos += size;
            }
        }
        return out;
    }

    private static List<Stored> batches(Path root, String file) throws IOException {
        byte[] bytes = Files.readAllBytes(root.resolve(file));
        MemorySegment all = MemorySegment.ofArray(bytes);
        List<Stored> out = new ArrayList<>();
        for (int pos = 0; pos < bytes.length; ) {
            MemorySegment h = all.asSlice(pos);
            int size = (int) RecordBatch.sizeInBytes(h);
            long base = RecordBatch.baseOffset(h);
            out.add(new Stored(file, pos, Arrays.copyOfRange(bytes, pos, pos + size), base, RecordBatch.nextOffset(h, base)));
            pos += size;
        }
        return out;
    }

    private static List<String> names(Path d, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix) && !n.startsWith(".")).sorted().toList();
        }
    }

    private static void damage(Path file, Damage d) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            if (d.truncate()) {
                f.setLength(d.at());
                return;
            }
            f.seek(d.at());
            int b = f.read();
            f.seek(d.at());
            f.write(b ^ 0x10);
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else if (!p.getFileName().toString().equals(".lock")) Files.copy(p, target);
            }
        }
    }
}
