package kiri.storage.log;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Semaphore;
import kiri.protocol.record.RecordBatch;
import kiri.storage.api.NewTopic;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;

/**
 * The process {@link CrashTest} kills: opens the engine on {@code args[0]} (default fsync), produces to
 * {@code crash-0} forever with 16 batches in flight, and prints {@code ACK <base> <records>} for each
 * acknowledged batch, flushed before the next line.
 */
public final class CrashChild {
    private CrashChild() {}

    public static void main(String[] args) throws Exception {
        LogStorage s = (LogStorage) new LogStorageProvider().open(StorageUrl.parse("file:" + Path.of(args[0])),
                new StorageContext(0, null, "localhost", 9092));
        TopicPartition tp = new TopicPartition("crash", 0);
        if (Harness.topics(s).isEmpty()) Harness.await(s.createTopic(new NewTopic("crash", 1, (short) 1, Map.of()), false));
        PrintStream out = System.out;
        out.println("READY");
        out.flush();
        Semaphore inFlight = new Semaphore(16);
        for (int i = 0; ; i++) {
            inFlight.acquire();
            int records = 1 + i % 4;
            MemorySegment batch = KafkaBatches.plain("c" + i + "-", records, System.currentTimeMillis());
            s.produce(null, tp, batch).whenComplete((v, t) -> {
                if (t == null) {
                    synchronized (out) {
                        out.println("ACK " + RecordBatch.baseOffset(batch) + " " + records);
                        out.flush();
                    }
                }
                inFlight.release();
            });
        }
    }
}
