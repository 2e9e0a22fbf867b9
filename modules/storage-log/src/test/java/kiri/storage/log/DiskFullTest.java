package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static kiri.storage.log.Harness.errorOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finding 8 of issue 15, on a real full file system (a 4 MiB tmpfs; skipped where mounting is not allowed): produce
 * answers KAFKA_STORAGE_ERROR while the disk is full, DeleteTopics and DeleteRecords still work, the partition takes
 * appends again by itself once there is space (no offset skipped or reused), and an engine opened on a full disk
 * serves what it has.
 */
class DiskFullTest {
    static final TopicPartition TP = new TopicPartition("t", 0);

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"", "fsync=never"})
    void aFullDiskFailsWritesUntilSpaceReturnsWithoutARestart(String params) throws Exception {
        Path mnt = dir.resolve("mnt");
        Files.createDirectories(mnt);
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt.toString()), "cannot mount a tmpfs here");
        try {
            Path data = mnt.resolve("data");
            Harness.Clock clock = new Harness.Clock();
            long end;
            try (LogStorage s = Harness.open(data, params, clock)) {
                Harness.topic(s, "t", 1, Map.of("segment.ms", "1000")); // a segment per batch: rolls on a full disk
                Harness.topic(s, "filler");
                TopicPartition filler = new TopicPartition("filler", 0);
                for (int i = 0; i < 4; i++) LogRecordsTest.produce(s, filler, KafkaBatches.big(256 << 10, 1_000L));
                short code = ErrorCode.NONE.code();
                long next = 0;
                for (int i = 0; i < 200 && code == ErrorCode.NONE.code(); i++) {
                    clock.advance(2_000);
                    try {
                        next = LogRecordsTest.produce(s, TP, KafkaBatches.big(64 << 10, 1_000L)) + 1;
                    } catch (StorageException e) {
                        code = e.errorCode();
                    }
                }
                assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), code, "the disk filled up");
                assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), errorOf(s.produce(null, TP, KafkaBatches.big(64 << 10, 1_000L))));
                assertEquals(next, await(s.offsets(TP)).highWatermark());
                await(s.deleteRecords(TP, 1)); // works on a full disk
                await(s.deleteTopic(TopicRef.of("filler"))); // and frees the space
                await(s.maintain(clock.millis())); // the housekeeping a broker runs every few seconds
                assertEquals(next, LogRecordsTest.produce(s, TP, KafkaBatches.plain(1)), "no offset skipped or reused");
                end = next + 1;
                assertEquals(List.of("t"), Harness.topics(s).stream().map(t -> t.name()).toList());
            }
            // Fill the disk to the last byte, then open: the engine serves what it has.
            Path junk = mnt.resolve("junk");
            try (OutputStream out = Files.newOutputStream(junk)) {
                byte[] block = new byte[64 << 10];
                while (true) out.write(block);
            } catch (IOException expected) {
                // no space left
            }
            try (LogStorage s = Harness.open(data, params, clock)) {
                assertEquals(end, await(s.offsets(TP)).highWatermark());
                assertTrue(s.partitionLog(TP).segmentCount() > 2, "sealed segments opened on a full disk");
                assertEquals(1, await(s.offsets(TP)).logStartOffset());
                assertTrue(LogRecordsTest.fetchAll(s, TP, 1).length > 0);
                short code = ErrorCode.NONE.code();
                for (int i = 0; i < 50 && code == ErrorCode.NONE.code(); i++) {
                    try {
                        end = LogRecordsTest.produce(s, TP, KafkaBatches.big(64 << 10, 1_000L)) + 1;
                    } catch (StorageException e) {
                        code = e.errorCode();
                    }
                }
                assertEquals(ErrorCode.KAFKA_STORAGE_ERROR.code(), code);
                Files.delete(junk);
                await(s.maintain(clock.millis()));
                assertEquals(end, LogRecordsTest.produce(s, TP, KafkaBatches.plain(1)));
            }
            try (LogStorage s = Harness.open(data, params, clock)) {
                assertEquals(end + 1, await(s.offsets(TP)).highWatermark());
            }
        } finally {
            run("umount", mnt.toString());
        }
    }

    private static boolean run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().transferTo(OutputStream.nullOutputStream());
        return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}
