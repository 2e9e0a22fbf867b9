package kiri.coordinator;

import java.util.List;

/**
 * A JoinGroup answer. The leader gets every member's metadata for the chosen protocol (to compute the
 * assignment); followers get an empty list. {@code skipAssignment}: a static leader rejoined a stable
 * group whose assignment stands (JoinGroup v9+).
 */
public record JoinResult(short error, int generationId, String protocolType, String protocolName, String leader,
                         boolean skipAssignment, String memberId, List<JoinedMember> members) {
    /** A member as the leader sees it. */
    public record JoinedMember(String memberId, String groupInstanceId, byte[] metadata) {
    }

    static JoinResult error(short error, String memberId) {
        return new JoinResult(error, -1, null, null, "", false, memberId, List.of());
    }
}
