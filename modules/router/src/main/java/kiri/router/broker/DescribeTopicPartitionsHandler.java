package kiri.router.broker;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.DescribeTopicPartitionsRequest;
import kiri.protocol.message.DescribeTopicPartitionsResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.TopicInfo;

/**
 * DescribeTopicPartitions (what AdminClient.describeTopics uses on 4.x): topics sorted by name,
 * paged by the request's partition limit and cursor as Kafka does.
 */
final class DescribeTopicPartitionsHandler implements Handler {
    private final BrokerState broker;

    DescribeTopicPartitionsHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeTopicPartitionsRequest request = (DescribeTopicPartitionsRequest) message;
        return broker.storage().listTopics().thenApply(all -> {
            List<String> wanted = new ArrayList<>();
            if (request.topics().isEmpty()) { // every topic the principal may describe, as Kafka lists them
                all.stream().filter(t -> broker.allowedTopic(context, AclOperation.DESCRIBE, t.name()))
                        .forEach(t -> wanted.add(t.name()));
            } else {
                request.topics().forEach(t -> wanted.add(t.name()));
            }
            wanted.sort(Comparator.naturalOrder());
            DescribeTopicPartitionsResponse response = new DescribeTopicPartitionsResponse();
            var cursor = request.cursor();
            int budget = Math.max(1, request.responsePartitionLimit());
            for (String name : wanted) {
                if (cursor != null && name.compareTo(cursor.topicName()) < 0) {
                    continue;
                }
                if (!broker.allowedTopic(context, AclOperation.DESCRIBE, name)) {
                    response.topics().add(new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic()
                            .setName(name).setErrorCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED.code()));
                    continue;
                }
                TopicInfo topic = all.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
                if (topic == null) {
                    response.topics().add(new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic()
                            .setName(name).setErrorCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code()));
                    continue;
                }
                broker.topics().put(topic);
                var t = new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic().setName(name)
                        .setTopicId(topic.id()).setIsInternal(false);
                int first = cursor != null && name.equals(cursor.topicName()) ? cursor.partitionIndex() : 0;
                for (PartitionInfo stored : topic.partitions()) {
                    PartitionInfo p = broker.storage().placement(topic, stored);
                    if (p.partition() < first) {
                        continue;
                    }
                    if (budget == 0) {
                        response.setNextCursor(new DescribeTopicPartitionsResponse.Cursor().setTopicName(name)
                                .setPartitionIndex(p.partition()));
                        break;
                    }
                    budget--;
                    t.partitions().add(new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition()
                            .setPartitionIndex(p.partition()).setLeaderId(p.leaderId()).setLeaderEpoch(p.leaderEpoch())
                            .setReplicaNodes(BrokerState.replicas(p)).setIsrNodes(BrokerState.isr(p))
                            .setEligibleLeaderReplicas(new int[0]).setLastKnownElr(new int[0]));
                }
                response.topics().add(t);
                if (response.nextCursor() != null) {
                    break;
                }
            }
            return response;
        });
    }
}
