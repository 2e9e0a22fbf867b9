package kiri.storage.log;

import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import kiri.storage.api.NewTopic;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.StorageUrl;
import kiri.storage.api.TopicInfo;

/** Opens the engine on a directory with a clock the test moves. */
final class Harness {
    private Harness() {}

    static final class Clock implements InstantSource {
        final AtomicLong ms = new AtomicLong(1_000_000L);

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(ms.get());
        }

        @Override
        public long millis() {
            return ms.get();
        }

        void advance(long delta) {
            ms.addAndGet(delta);
        }
    }

    static LogStorage open(Path dir, String params, InstantSource clock) {
        String url = "file:" + dir + (params.isEmpty() ? "" : "?" + params);
        return (LogStorage) new LogStorageProvider().open(StorageUrl.parse(url), new StorageContext(0, null, "localhost", 9092, clock));
    }

    static LogStorage open(Path dir) {
        return open(dir, "", new Clock());
    }

    /** Waits for a stage with a generous bound (a hang fails the test instead of stalling the build). */
    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new AssertionError(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    static short errorOf(CompletionStage<?> stage) {
        try {
            await(stage);
        } catch (StorageException e) {
            return e.errorCode();
        }
        throw new AssertionError("expected a StorageException");
    }

    static TopicInfo topic(LogStorage s, String name, int partitions, Map<String, String> configs) {
        return await(s.createTopic(new NewTopic(name, partitions, (short) 1, configs), false));
    }

    static TopicInfo topic(LogStorage s, String name) {
        return topic(s, name, 1, Map.of());
    }

    static List<TopicInfo> topics(LogStorage s) {
        return await(s.listTopics());
    }
}
