package kiri.storage.api.base;

import java.util.HashMap;
import java.util.Map;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupState;
import kiri.storage.api.TopicPartition;

/**
 * A group's stored state and committed offsets, kept together so that DeleteGroups checks and removes
 * both atomically. Guarded by its own monitor; {@code dead} once removed from the map, so that a
 * writer that looked it up just before must retry with a fresh entry.
 */
final class CatalogGroup {
    GroupState state;
    final Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
    boolean dead;

    boolean isEmpty() {
        return state == null && offsets.isEmpty();
    }
}
