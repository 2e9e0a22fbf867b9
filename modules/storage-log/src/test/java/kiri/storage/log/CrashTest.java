package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import kiri.storage.api.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import kiri.testsupport.KafkaBatches;

/**
 * Kills a producing JVM with SIGKILL in the middle of its stream and checks, after reopening the
 * directory, that every acknowledged batch is there and that offsets are contiguous. Two rounds: the
 * second appends after a recovery and is killed again.
 */
class CrashTest {
    static final TopicPartition TP = new TopicPartition("crash", 0);
    static final int ACKS_BEFORE_KILL = 300;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedBatchSurvivesSigkill() throws Exception {
        Path data = dir.resolve("kiri-data");
        long previousEnd = 0;
        for (int round = 0; round < 2; round++) {
            List<long[]> acked = runAndKill(data, round);
            assertTrue(acked.size() >= ACKS_BEFORE_KILL, "acks: " + acked.size());
            try (LogStorage s = Harness.open(data)) {
                long hwm = await(s.offsets(TP)).highWatermark();
                List<Long> offsets = KafkaBatches.offsets(LogRecordsTest.fetchAll(s, TP, 0));
                assertEquals(hwm, offsets.size(), "round " + round + ": the log holds offsets 0..hwm-1");
                for (int i = 0; i < offsets.size(); i++) assertEquals(i, offsets.get(i), "round " + round + ": offsets are contiguous");
                Set<Long> batchBases = new LinkedHashSet<>();
                for (var b : KafkaBatches.parse(LogRecordsTest.fetchAll(s, TP, 0))) batchBases.add(b.baseOffset());
                for (long[] a : acked) {
                    assertTrue(a[0] + a[1] <= hwm, "round " + round + ": acknowledged batch at " + a[0] + " is readable (hwm " + hwm + ")");
                    assertTrue(batchBases.contains(a[0]), "round " + round + ": a batch starts at acknowledged offset " + a[0]);
                    assertTrue(a[0] >= previousEnd || round == 0, "offsets continue after the last recovery");
                }
                previousEnd = hwm;
                System.out.printf("crash round %d: %d acknowledged, %d offsets recovered, %d bytes of torn tail or zeros dropped%n",
                        round, acked.size(), hwm, s.partitionLog(TP).truncatedBytes);
            }
        }
    }

    /** Runs {@link CrashChild}, SIGKILLs it after {@link #ACKS_BEFORE_KILL} acks, returns every ack it printed. */
    private List<long[]> runAndKill(Path data, int round) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path stderr = dir.resolve("child-" + round + ".err");
        Process child = new ProcessBuilder(java, "-cp", childClassPath(), "-XX:+UseSerialGC", CrashChild.class.getName(), data.toString())
                .redirectError(stderr.toFile())
                .start();
        List<long[]> acked = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean killed = false;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    String[] parts = line.split(" ");
                    acked.add(new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])});
                    if (acked.size() >= ACKS_BEFORE_KILL) {
                        // SIGKILL: no shutdown hooks, no close, no final flush. It also closes our end of the
                        // pipe, so acks printed after this line are not checked (they are a subset anyway).
                        child.destroyForcibly();
                        killed = true;
                        break;
                    }
                }
            }
            if (!killed) fail("the child exited before " + ACKS_BEFORE_KILL + " acks: " + Files.readString(stderr));
        } finally {
            child.destroyForcibly();
            child.waitFor(60, TimeUnit.SECONDS);
        }
        return acked;
    }

    /** The test JVM's module and class paths, flattened into a class path (the child runs unnamed). */
    static String childClassPath() throws Exception {
        Set<String> entries = new LinkedHashSet<>();
        entries.add(Path.of(CrashChild.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        entries.add(Path.of("target", "test-classes").toAbsolutePath().toString());
        entries.add(Path.of("target", "classes").toAbsolutePath().toString());
        for (String key : List.of("jdk.module.path", "java.class.path")) {
            String v = System.getProperty(key);
            if (v == null) continue;
            for (String e : v.split(File.pathSeparator)) if (!e.isBlank()) entries.add(e);
        }
        return String.join(File.pathSeparator, entries);
    }
}
