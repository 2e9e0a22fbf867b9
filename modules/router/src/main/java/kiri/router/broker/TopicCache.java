package kiri.router.broker;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicRef;

/**
 * Topic metadata the hot paths (produce, fetch) need on every request, kept in memory so they
 * don't ask storage each time. Handlers that change topics through this broker invalidate their
 * entries. A miss asks storage; an unknown topic is not cached, so a topic created elsewhere is
 * seen at its first use. Thread-safe.
 */
final class TopicCache {
    private final Storage storage;
    private final Map<String, TopicInfo> byName = new ConcurrentHashMap<>();
    private final Map<UUID, TopicInfo> byId = new ConcurrentHashMap<>();

    TopicCache(Storage storage) {
        this.storage = storage;
    }

    /** The topic, or a stage completing with null when storage doesn't know it. */
    CompletionStage<TopicInfo> get(TopicRef ref) {
        TopicInfo cached = switch (ref) {
            case TopicRef.Name n -> byName.get(n.name());
            case TopicRef.Id id -> byId.get(id.id());
        };
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        return storage.describeTopics(List.of(ref)).handle((topics, failure) -> {
            if (failure != null) {
                if (StorageException.unwrap(failure) instanceof StorageException) {
                    return null;
                }
                throw new java.util.concurrent.CompletionException(failure);
            }
            for (TopicInfo t : topics) {
                if (ref.matches(t)) {
                    put(t);
                    return t;
                }
            }
            return null;
        });
    }

    void put(TopicInfo topic) {
        TopicInfo old = byName.put(topic.name(), topic);
        if (old != null && !old.id().equals(topic.id())) {
            byId.remove(old.id());
        }
        byId.put(topic.id(), topic);
    }

    void invalidate(String name) {
        TopicInfo old = byName.remove(name);
        if (old != null) {
            byId.remove(old.id());
        }
    }
}
