package kiri.storage.kit;

import kiri.storage.api.SecurityState;
import kiri.storage.api.TopicInfo;

/**
 * Where a durable engine keeps the metadata {@link CatalogStorage} holds in memory: topics, groups with their
 * committed offsets, transactional ids and security. {@link CatalogStorage} calls it on its metadata path (see
 * {@link CatalogStorage#metadata}) after changing a table and before anyone can read the change; when a call
 * throws, the change is rolled back and the operation fails with that error, so that nobody reads what a restart
 * would take back. In-memory engines use {@link #NONE}, which keeps nothing (and then nothing is snapshotted).
 */
public interface MetadataStore {
    /** Keeps nothing: the catalogue lives and dies with the engine. */
    MetadataStore NONE = new MetadataStore() {};

    /** Stores a topic: just created ({@code created}), or its partition count or configs changed. */
    default void putTopic(TopicInfo topic, boolean created) {
    }

    /**
     * Forgets a deleted topic; {@code dropData} removes it from the catalogue and frees its partitions, and must run
     * exactly once, in the order the engine's crash safety needs (a failure to forget may be retried by {@link #retry}).
     */
    default void removeTopic(TopicInfo topic, Runnable dropData) {
        dropData.run();
    }

    /** Stores one group's state and offsets, or forgets it when the snapshot {@link GroupTable.Snapshot#isDeleted}. */
    default void putGroup(GroupTable.Snapshot group) {
    }

    /** Stores one transactional id's record (producer, state, partitions, pending offsets). */
    default void putTransaction(TransactionTable.Snapshot transaction) {
    }

    default void putSecurity(SecurityState state) {
    }

    /** Retries what an earlier call left undone (housekeeping and close); true when nothing lags. */
    default boolean retry() {
        return true;
    }
}
