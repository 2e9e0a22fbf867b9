package kiri.storage.api;

/** A ListGroups row: the plain fields of a {@link GroupState}. */
public record GroupListing(String groupId, String type, String protocolType, String state) {
}
