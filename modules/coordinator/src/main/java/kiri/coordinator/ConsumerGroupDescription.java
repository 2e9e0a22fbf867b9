package kiri.coordinator;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * ConsumerGroupDescribe view of one consumer group. A group that is missing, or is a classic group,
 * has {@code error} GROUP_ID_NOT_FOUND (admin clients then describe it with DescribeGroups).
 *
 * @param topicNames names of the topic ids in the assignments
 */
public record ConsumerGroupDescription(short error, String errorMessage, String groupId, String state, int groupEpoch,
                                       int assignmentEpoch, String assignorName, List<Member> members,
                                       Map<UUID, String> topicNames) {
    /** One member, with its current and target assignments by topic id. */
    public record Member(String memberId, String instanceId, String rackId, int memberEpoch, String clientId,
                         String clientHost, List<String> subscribedTopicNames, String subscribedTopicRegex,
                         Map<UUID, List<Integer>> assignment, Map<UUID, List<Integer>> targetAssignment) {
    }
}
