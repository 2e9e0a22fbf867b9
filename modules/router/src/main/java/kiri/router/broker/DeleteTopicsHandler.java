package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.Codec;
import kiri.protocol.message.DeleteTopicsRequest;
import kiri.protocol.message.DeleteTopicsResponse;
import kiri.router.Handler;
import java.util.concurrent.CompletableFuture;
import kiri.protocol.ErrorCode;
import kiri.router.security.AclOperation;
import kiri.router.RequestContext;
import kiri.storage.api.TopicRef;

/** DeleteTopics: by name (v1-5) or by name or id (v6+); DELETE on each topic, as Kafka checks it. */
final class DeleteTopicsHandler implements Handler {
    private final BrokerState broker;

    DeleteTopicsHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        DeleteTopicsRequest request = (DeleteTopicsRequest) message;
        List<TopicRef> refs = new ArrayList<>();
        for (String name : request.topicNames()) {
            refs.add(TopicRef.of(name));
        }
        for (DeleteTopicsRequest.DeleteTopicState t : request.topics()) {
            refs.add(t.name() != null ? TopicRef.of(t.name()) : TopicRef.of(t.topicId()));
        }
        List<CompletionStage<DeleteTopicsResponse.DeletableTopicResult>> results = new ArrayList<>();
        for (TopicRef ref : refs) {
            results.add(switch (ref) {
                case TopicRef.Name(String name) -> broker.allowedTopic(context, AclOperation.DELETE, name) ? delete(ref)
                        : CompletableFuture.completedFuture(refused(name));
                case TopicRef.Id id when broker.authorizer().enabled() -> broker.topics().get(ref).thenCompose(topic -> {
                    // Kafka's order: an unknown id, then DESCRIBE (the name is not told without it), then DELETE
                    if (topic == null) {
                        return CompletableFuture.completedFuture(new DeleteTopicsResponse.DeletableTopicResult()
                                .setTopicId(id.id()).setName(null).setErrorCode(ErrorCode.UNKNOWN_TOPIC_ID.code()));
                    }
                    if (!broker.allowedTopic(context, AclOperation.DESCRIBE, topic.name())) {
                        return CompletableFuture.completedFuture(refused(null).setTopicId(id.id()));
                    }
                    return broker.allowedTopic(context, AclOperation.DELETE, topic.name()) ? delete(ref)
                            : CompletableFuture.completedFuture(refused(topic.name()).setTopicId(id.id()));
                });
                case TopicRef.Id id -> delete(ref);
            });
        }
        return Futures.all(results).thenApply(list -> {
            DeleteTopicsResponse response = new DeleteTopicsResponse();
            response.responses().addAll(list);
            return response;
        });
    }

    private static DeleteTopicsResponse.DeletableTopicResult refused(String name) {
        return new DeleteTopicsResponse.DeletableTopicResult().setName(name)
                .setErrorCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED.code());
    }

    private CompletionStage<DeleteTopicsResponse.DeletableTopicResult> delete(TopicRef ref) {
        return broker.storage().deleteTopic(ref).handle((deleted, failure) -> {
            DeleteTopicsResponse.DeletableTopicResult r = new DeleteTopicsResponse.DeletableTopicResult();
            switch (ref) {
                case TopicRef.Name n -> r.setName(n.name());
                case TopicRef.Id id -> r.setTopicId(id.id()).setName(null);
            }
            if (failure != null) {
                return r.setErrorCode(Futures.errorCode(failure)).setErrorMessage(Futures.message(failure));
            }
            broker.topics().invalidate(deleted.name());
            return r.setName(deleted.name()).setTopicId(deleted.id() == null ? Codec.ZERO_UUID : deleted.id());
        });
    }
}
