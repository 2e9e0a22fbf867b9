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

/** DeleteTopics: by name (v1-5) or by name or id (v6+). */
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
            if (ref instanceof TopicRef.Name(String name) && !broker.allowedTopic(context, AclOperation.DELETE, name)) {
                results.add(CompletableFuture.completedFuture(new DeleteTopicsResponse.DeletableTopicResult().setName(name)
                        .setErrorCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED.code())));
                continue;
            }
            results.add(broker.storage().deleteTopic(ref).handle((deleted, failure) -> {
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
            }));
        }
        return Futures.all(results).thenApply(list -> {
            DeleteTopicsResponse response = new DeleteTopicsResponse();
            response.responses().addAll(list);
            return response;
        });
    }
}
