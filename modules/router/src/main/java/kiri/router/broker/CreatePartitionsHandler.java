package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.message.CreatePartitionsRequest;
import kiri.protocol.message.CreatePartitionsResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.protocol.ErrorCode;
import kiri.router.security.AclOperation;

/** CreatePartitions: grows a topic to the requested total count. */
final class CreatePartitionsHandler implements Handler {
    private final BrokerState broker;

    CreatePartitionsHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        CreatePartitionsRequest request = (CreatePartitionsRequest) message;
        List<CompletionStage<CreatePartitionsResponse.CreatePartitionsTopicResult>> results = new ArrayList<>();
        for (CreatePartitionsRequest.CreatePartitionsTopic t : request.topics()) {
            if (!broker.allowedTopic(context, AclOperation.ALTER, t.name())) {
                results.add(java.util.concurrent.CompletableFuture.completedFuture(
                        new CreatePartitionsResponse.CreatePartitionsTopicResult().setName(t.name())
                                .setErrorCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED.code()).setErrorMessage(null)));
                continue;
            }
            results.add(broker.storage().createPartitions(t.name(), t.count(), request.validateOnly())
                    .handle((topic, failure) -> {
                        var r = new CreatePartitionsResponse.CreatePartitionsTopicResult().setName(t.name());
                        if (failure != null) {
                            return r.setErrorCode(Futures.errorCode(failure)).setErrorMessage(Futures.message(failure));
                        }
                        if (!request.validateOnly()) {
                            broker.topics().put(topic);
                        }
                        return r;
                    }));
        }
        return Futures.all(results).thenApply(list -> {
            CreatePartitionsResponse response = new CreatePartitionsResponse();
            response.results().addAll(list);
            return response;
        });
    }
}
