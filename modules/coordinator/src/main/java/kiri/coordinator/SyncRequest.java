package kiri.coordinator;

import java.util.Map;
import java.util.Objects;

/**
 * A SyncGroup request; {@code assignments} (member id to assignment) is empty except from the leader.
 * {@code protocolType}/{@code protocolName} are null before SyncGroup v5 (not checked then).
 */
public record SyncRequest(String groupId, int generationId, String memberId, String groupInstanceId,
                          String protocolType, String protocolName, Map<String, byte[]> assignments) {
    public SyncRequest {
        Objects.requireNonNull(groupId, "groupId");
        memberId = memberId == null ? "" : memberId;
        assignments = Map.copyOf(assignments);
    }
}
