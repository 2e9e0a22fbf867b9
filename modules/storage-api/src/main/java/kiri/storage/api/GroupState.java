package kiri.storage.api;

import java.util.Objects;

/**
 * A consumer group's state as the coordinator persists it: a few plain fields that ListGroups and
 * DeleteGroups need without decoding, plus the coordinator's own encoding of everything else
 * ({@code data}: members, assignment, generation, ...), opaque to engines.
 *
 * <p>{@code version} is an e-tag: engines assign it on every successful {@link Storage#updateGroup}
 * (strictly increasing per group id); {@link #NO_VERSION} (0) means "not stored". The {@code data}
 * array is owned by the record once built: neither side mutates it.
 *
 * @param type         Kafka's group type: {@code "classic"}, {@code "consumer"}, {@code "share"}, {@code "streams"}
 * @param protocolType the classic protocol type ({@code "consumer"}, {@code "connect"}, ...); {@code ""} if none
 * @param state        Kafka's state name: {@code "Empty"}, {@code "Stable"}, {@code "PreparingRebalance"}, ...
 */
public record GroupState(String groupId, String type, String protocolType, String state, byte[] data, long version) {
    public static final long NO_VERSION = 0L;
    private static final byte[] NO_DATA = new byte[0];

    public GroupState {
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(protocolType, "protocolType");
        Objects.requireNonNull(state, "state");
        if (data == null) data = NO_DATA;
    }

    /**
     * What an engine reports for a group that has committed offsets but no stored state (consumers
     * using {@code assign()} with a group id): an empty classic group, as Kafka lists them.
     */
    public static GroupState offsetsOnly(String groupId) {
        return new GroupState(groupId, "classic", "", "Empty", NO_DATA, NO_VERSION);
    }

    /** Whether DeleteGroups may delete it: Kafka only deletes groups without members. */
    public boolean isDeletable() {
        return state.equals("Empty") || state.equals("Dead");
    }

    public GroupState withVersion(long newVersion) {
        return new GroupState(groupId, type, protocolType, state, data, newVersion);
    }

    public GroupListing listing() {
        return new GroupListing(groupId, type, protocolType, state);
    }
}
