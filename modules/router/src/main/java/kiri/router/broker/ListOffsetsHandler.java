package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ListOffsetsRequest;
import kiri.protocol.message.ListOffsetsResponse;
import kiri.router.Handler;
import kiri.router.security.AclOperation;
import kiri.router.RequestContext;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;

/** ListOffsets: earliest (-2), latest (-1), max timestamp (-3) or the first offset at or after a timestamp. */
final class ListOffsetsHandler implements Handler {
    private final BrokerState broker;

    ListOffsetsHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        ListOffsetsRequest request = (ListOffsetsRequest) message;
        IsolationLevel isolation = IsolationLevel.fromId(request.isolationLevel());
        List<CompletionStage<ListOffsetsResponse.ListOffsetsTopicResponse>> topics = new ArrayList<>();
        for (ListOffsetsRequest.ListOffsetsTopic t : request.topics()) {
            topics.add(broker.topics().get(TopicRef.of(t.name())).thenCompose(info -> {
                List<CompletionStage<ListOffsetsResponse.ListOffsetsPartitionResponse>> partitions = new ArrayList<>();
                for (ListOffsetsRequest.ListOffsetsPartition p : t.partitions()) {
                    var r = new ListOffsetsResponse.ListOffsetsPartitionResponse().setPartitionIndex(p.partitionIndex());
                    if (!broker.allowedTopic(context, AclOperation.DESCRIBE, t.name())) {
                        partitions.add(CompletableFuture.completedFuture(
                                r.setErrorCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED.code())));
                        continue;
                    }
                    if (info == null || p.partitionIndex() < 0 || p.partitionIndex() >= info.partitionCount()) {
                        partitions.add(CompletableFuture.completedFuture(
                                r.setErrorCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code())));
                        continue;
                    }
                    partitions.add(broker.storage()
                            .listOffset(new TopicPartition(t.name(), p.partitionIndex()), p.timestamp(), isolation)
                            .handle((found, failure) -> failure != null ? r.setErrorCode(Futures.errorCode(failure))
                                    : r.setOffset(found.offset()).setTimestamp(found.timestamp())
                                            .setLeaderEpoch(found.leaderEpoch())));
                }
                return Futures.all(partitions).thenApply(list -> {
                    var topic = new ListOffsetsResponse.ListOffsetsTopicResponse().setName(t.name());
                    topic.partitions().addAll(list);
                    return topic;
                });
            }));
        }
        return Futures.all(topics).thenApply(list -> {
            ListOffsetsResponse response = new ListOffsetsResponse();
            response.topics().addAll(list);
            return response;
        });
    }
}
