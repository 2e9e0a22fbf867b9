package kiri.storage.log;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.testsupport.KafkaBatches;

/**
 * The process {@link OpenFailureTest} runs under a small descriptor limit ({@code prlimit --nofile}): opens the
 * engine on {@code args[0]}, creates a topic of {@code args[1]} partitions and produces to each in turn until
 * partitions can no longer be opened, retries a failing one, then deletes the topic and produces to a new one.
 * Prints {@code KEY value} lines for the test to check.
 */
public final class FdLimitChild {
    private FdLimitChild() {}

    /** Says so and waits for the test's go-ahead on stdin (already open: needs no descriptor). */
    private static void pause() throws java.io.IOException {
        System.out.println("PAUSE");
        System.out.flush();
        while (System.in.read() != '\n') {
            // wait
        }
    }

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        int partitions = Integer.parseInt(args[1]);
        LogStorage s = (LogStorage) new LogStorageProvider().open(StorageUrl.parse("file:" + data), new StorageContext(0, null, "localhost", 9092));
        TopicInfo many = Harness.await(s.createTopic(new NewTopic("many", partitions, (short) 1, Map.of()), false));
        // A first failure before the limit is near, so that the failure path's classes are loaded while files can be opened.
        Files.writeString(data.resolve("data").resolve(KafkaUuid.toString(many.id()) + "-0"), "in the way");
        int opened = 0, failed = 0, firstFailed = -1;
        for (int p = 0; p < partitions; p++) {
            try {
                Harness.await(s.produce(null, new TopicPartition("many", p), KafkaBatches.plain("r", 1, 1_000L)));
                opened++;
            } catch (StorageException e) {
                failed++;
                if (p > 0 && firstFailed < 0) {
                    firstFailed = p;
                    System.out.println("ERROR " + e.getMessage().replace('\n', ' '));
                }
            }
        }
        System.out.println("OPENED " + opened);
        System.out.println("FAILED " + failed);
        pause(); // the test counts this process's descriptors (listing them here would need one)
        for (int i = 0; i < 20 && firstFailed > 0; i++) {
            try {
                Harness.await(s.produce(null, new TopicPartition("many", firstFailed), KafkaBatches.plain("r", 1, 1_000L)));
            } catch (StorageException expected) {
                // still out of descriptors
            }
        }
        pause(); // and again, and the partition directories
        Files.delete(data.resolve("data").resolve(KafkaUuid.toString(many.id()) + "-0"));
        Harness.await(s.deleteTopic(TopicRef.of("many")));
        Harness.await(s.createTopic(new NewTopic("after", 1, (short) 1, Map.of()), false));
        Harness.await(s.produce(null, new TopicPartition("after", 0), KafkaBatches.plain("r", 1, 1_000L)));
        System.out.println("AFTER " + Harness.await(s.offsets(new TopicPartition("after", 0))).highWatermark());
        s.close();
        System.out.println("DONE");
    }
}
