package kiri.coordinator;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A ConsumerGroupHeartbeat request (KIP-848). Fields a client leaves null did not change since its
 * last heartbeat.
 *
 * @param memberEpoch          0 to join, -1 to leave, -2 for a static member's temporary leave, else the current epoch
 * @param rebalanceTimeoutMs   -1 if unchanged
 * @param ownedTopicPartitions the partitions the member owns, by topic id, or null if unchanged
 * @param apiVersion           the request version (v1+: the client generates its member id)
 */
public record ConsumerHeartbeat(String groupId, String memberId, int memberEpoch, String instanceId, String rackId,
                                int rebalanceTimeoutMs, List<String> subscribedTopicNames, String subscribedTopicRegex,
                                String serverAssignor, Map<UUID, List<Integer>> ownedTopicPartitions, String clientId,
                                String clientHost, int apiVersion) {
}
