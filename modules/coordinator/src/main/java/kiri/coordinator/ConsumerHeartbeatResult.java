package kiri.coordinator;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A ConsumerGroupHeartbeat response.
 *
 * @param assignment the member's assignment by topic id, or null when it is unchanged since the last response
 */
public record ConsumerHeartbeatResult(short error, String errorMessage, String memberId, int memberEpoch,
                                      int heartbeatIntervalMs, Map<UUID, List<Integer>> assignment) {
    static ConsumerHeartbeatResult error(short error, String message, String memberId) {
        return new ConsumerHeartbeatResult(error, message, memberId, -1, 0, null);
    }
}
