package kiri.storage.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import kiri.storage.api.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LazyPartition}: what happens to a partition while its first use opens it. */
class LazyPartitionTest {
    private static final long PATIENCE_SECONDS = 60;

    @TempDir
    Path dir;

    /**
     * A topic config altered while a first use opens the partition reaches the log: the open used the config of
     * before, so a change that found no open log yet must not be lost.
     */
    @Test
    void aConfigChangedDuringTheFirstOpenReachesTheLog() throws Exception {
        LogConfig before = LogConfig.of(Map.of());
        LogConfig after = LogConfig.of(Map.of("retention.ms", "12345"));
        CountDownLatch opening = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        LazyPartition partition = new LazyPartition(new TopicPartition("t", 0), dir.resolve("t-0"), before,
                (tp, d, config) -> {
                    opening.countDown();
                    await(proceed);
                    return PartitionLog.open(tp, d, new FsyncMode.Never(), false, config, System.currentTimeMillis(),
                            new RecoveryPolicy(false, false, "file:" + dir, java.util.Map.of()));
                });
        Thread user = Thread.ofPlatform().start(partition::log);
        await(opening);
        Thread alter = Thread.ofPlatform().start(() -> partition.config(after));
        // the change either is done (the bug: it found no log to update) or waits for the open to finish
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PATIENCE_SECONDS);
        while (alter.isAlive() && alter.getState() != Thread.State.BLOCKED && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        proceed.countDown();
        user.join(TimeUnit.SECONDS.toMillis(PATIENCE_SECONDS));
        alter.join(TimeUnit.SECONDS.toMillis(PATIENCE_SECONDS));
        assertTrue(!user.isAlive() && !alter.isAlive(), "open and config change finished");
        PartitionLog log = partition.ifOpen();
        try {
            assertEquals(12345L, log.config.retentionMs(), "the log runs with the altered config");
        } finally {
            partition.close();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(PATIENCE_SECONDS, TimeUnit.SECONDS), "timed out");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
