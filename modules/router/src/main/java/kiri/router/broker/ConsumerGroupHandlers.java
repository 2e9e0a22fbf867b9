package kiri.router.broker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import kiri.coordinator.ConsumerGroupDescription;
import kiri.coordinator.ConsumerHeartbeat;
import kiri.coordinator.GroupCoordinator;
import kiri.protocol.message.ConsumerGroupDescribeRequest;
import kiri.protocol.message.ConsumerGroupDescribeResponse;
import kiri.protocol.message.ConsumerGroupHeartbeatRequest;
import kiri.protocol.message.ConsumerGroupHeartbeatResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;

/**
 * The consumer group protocol (KIP-848, {@code group.protocol=consumer}): ConsumerGroupHeartbeat and
 * ConsumerGroupDescribe, translated to and from the {@link GroupCoordinator}.
 */
final class ConsumerGroupHandlers {
    private ConsumerGroupHandlers() {
    }

    static Handler heartbeat(GroupCoordinator coordinator) {
        return (context, message) -> {
            ConsumerGroupHeartbeatRequest request = (ConsumerGroupHeartbeatRequest) message;
            Map<UUID, List<Integer>> owned = null;
            if (request.topicPartitions() != null) {
                owned = new LinkedHashMap<>();
                for (ConsumerGroupHeartbeatRequest.TopicPartitions t : request.topicPartitions()) {
                    List<Integer> ps = owned.computeIfAbsent(t.topicId(), k -> new ArrayList<>());
                    for (int p : t.partitions()) ps.add(p);
                }
            }
            ConsumerHeartbeat hb = new ConsumerHeartbeat(request.groupId(), request.memberId(), request.memberEpoch(),
                    request.instanceId(), request.rackId(), request.rebalanceTimeoutMs(), request.subscribedTopicNames(),
                    context.version() >= 1 ? request.subscribedTopicRegex() : null, request.serverAssignor(), owned,
                    context.clientId() == null ? "" : context.clientId(), GroupHandlers.clientHost(context), context.version());
            return coordinator.consumerHeartbeat(hb).thenApply(r -> {
                ConsumerGroupHeartbeatResponse response = new ConsumerGroupHeartbeatResponse().setErrorCode(r.error())
                        .setErrorMessage(r.errorMessage()).setMemberId(r.memberId()).setMemberEpoch(r.memberEpoch())
                        .setHeartbeatIntervalMs(r.heartbeatIntervalMs());
                if (r.assignment() != null) {
                    List<ConsumerGroupHeartbeatResponse.TopicPartitions> tps = new ArrayList<>();
                    r.assignment().forEach((id, ps) -> tps.add(new ConsumerGroupHeartbeatResponse.TopicPartitions()
                            .setTopicId(id).setPartitions(ps.stream().mapToInt(Integer::intValue).toArray())));
                    response.setAssignment(new ConsumerGroupHeartbeatResponse.Assignment().setTopicPartitions(tps));
                } else {
                    response.setAssignment(null);
                }
                return response;
            });
        };
    }

    static Handler describe(GroupCoordinator coordinator) {
        return (context, message) -> {
            ConsumerGroupDescribeRequest request = (ConsumerGroupDescribeRequest) message;
            short version = context.version();
            List<CompletionStage<ConsumerGroupDescribeResponse.DescribedGroup>> results = new ArrayList<>();
            for (String groupId : request.groupIds()) {
                results.add(coordinator.describeConsumerGroup(groupId).thenApply(d -> described(d, version)));
            }
            return Futures.all(results).thenApply(list -> new ConsumerGroupDescribeResponse().setGroups(new ArrayList<>(list)));
        };
    }

    private static ConsumerGroupDescribeResponse.DescribedGroup described(ConsumerGroupDescription d, short version) {
        ConsumerGroupDescribeResponse.DescribedGroup g = new ConsumerGroupDescribeResponse.DescribedGroup()
                .setErrorCode(d.error()).setErrorMessage(d.errorMessage()).setGroupId(d.groupId())
                .setGroupState(d.state()).setGroupEpoch(d.groupEpoch()).setAssignmentEpoch(d.assignmentEpoch())
                .setAssignorName(d.assignorName()).setAuthorizedOperations(Integer.MIN_VALUE);
        List<ConsumerGroupDescribeResponse.Member> members = new ArrayList<>();
        for (ConsumerGroupDescription.Member m : d.members()) {
            ConsumerGroupDescribeResponse.Member member = new ConsumerGroupDescribeResponse.Member()
                    .setMemberId(m.memberId()).setInstanceId(m.instanceId()).setRackId(m.rackId())
                    .setMemberEpoch(m.memberEpoch()).setClientId(m.clientId()).setClientHost(m.clientHost())
                    .setSubscribedTopicNames(new ArrayList<>(m.subscribedTopicNames()))
                    .setSubscribedTopicRegex(m.subscribedTopicRegex())
                    .setAssignment(assignment(m.assignment(), d.topicNames()))
                    .setTargetAssignment(assignment(m.targetAssignment(), d.topicNames()));
            if (version >= 1) member.setMemberType((byte) 1); // a consumer protocol member
            members.add(member);
        }
        return g.setMembers(members);
    }

    private static ConsumerGroupDescribeResponse.Assignment assignment(Map<UUID, List<Integer>> partitions,
                                                                       Map<UUID, String> names) {
        List<ConsumerGroupDescribeResponse.TopicPartitions> tps = new ArrayList<>();
        partitions.forEach((id, ps) -> tps.add(new ConsumerGroupDescribeResponse.TopicPartitions().setTopicId(id)
                .setTopicName(names.getOrDefault(id, "")).setPartitions(ps.stream().mapToInt(Integer::intValue).toArray())));
        return new ConsumerGroupDescribeResponse.Assignment().setTopicPartitions(tps);
    }
}
