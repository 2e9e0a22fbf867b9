package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.DeleteRecordsRequest;
import kiri.protocol.message.DeleteRecordsResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;

/**
 * DeleteRecords: advances each partition's log start offset to the requested offset (-1: the high
 * watermark) and answers the new low watermark, or OFFSET_OUT_OF_RANGE beyond the high watermark.
 */
final class DeleteRecordsHandler implements Handler {
    private final BrokerState broker;

    DeleteRecordsHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        DeleteRecordsRequest request = (DeleteRecordsRequest) message;
        List<CompletionStage<DeleteRecordsResponse.DeleteRecordsTopicResult>> topics = new ArrayList<>();
        for (DeleteRecordsRequest.DeleteRecordsTopic t : request.topics()) {
            topics.add(broker.topics().get(TopicRef.of(t.name())).thenCompose(info -> {
                List<CompletionStage<DeleteRecordsResponse.DeleteRecordsPartitionResult>> partitions = new ArrayList<>();
                for (DeleteRecordsRequest.DeleteRecordsPartition p : t.partitions()) {
                    var r = new DeleteRecordsResponse.DeleteRecordsPartitionResult().setPartitionIndex(p.partitionIndex())
                            .setLowWatermark(-1L);
                    if (!broker.allowedTopic(context, AclOperation.DELETE, t.name())) {
                        partitions.add(CompletableFuture.completedFuture(r.setErrorCode(
                                ErrorCode.TOPIC_AUTHORIZATION_FAILED.code())));
                        continue;
                    }
                    if (info == null || p.partitionIndex() < 0 || p.partitionIndex() >= info.partitionCount()) {
                        partitions.add(CompletableFuture.completedFuture(r.setErrorCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code())));
                        continue;
                    }
                    partitions.add(broker.storage().deleteRecords(new TopicPartition(t.name(), p.partitionIndex()), p.offset())
                            .handle((low, failure) -> failure != null ? r.setErrorCode(Futures.errorCode(failure))
                                    : r.setLowWatermark(low)));
                }
                return Futures.all(partitions).thenApply(list -> {
                    var topic = new DeleteRecordsResponse.DeleteRecordsTopicResult().setName(t.name());
                    topic.partitions().addAll(list);
                    return topic;
                });
            }));
        }
        return Futures.all(topics).thenApply(list -> {
            DeleteRecordsResponse response = new DeleteRecordsResponse();
            response.topics().addAll(list);
            return response;
        });
    }
}
