package kiri.router.broker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.CreateTopicsRequest;
import kiri.protocol.message.CreateTopicsResponse;
import kiri.router.Handler;
import kiri.router.security.AclOperation;
import kiri.router.RequestContext;
import kiri.storage.api.ConfigEntry;
import kiri.storage.api.NewTopic;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;

/** CreateTopics: each topic independently; -1 partitions or replication factor take the broker default. */
final class CreateTopicsHandler implements Handler {
    private final BrokerState broker;

    CreateTopicsHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        CreateTopicsRequest request = (CreateTopicsRequest) message;
        List<CompletionStage<CreateTopicsResponse.CreatableTopicResult>> results = new ArrayList<>();
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (CreateTopicsRequest.CreatableTopic t : request.topics()) {
            seen.merge(t.name(), 1, Integer::sum);
        }
        for (CreateTopicsRequest.CreatableTopic t : request.topics()) {
            if (seen.get(t.name()) > 1) {
                results.add(CompletableFuture.completedFuture(new CreateTopicsResponse.CreatableTopicResult()
                        .setName(t.name()).setErrorCode(ErrorCode.INVALID_REQUEST.code())
                        .setErrorMessage("Create topics request from client contains multiple entries for topic "
                                + t.name())));
                continue;
            }
            if (!broker.allowedCluster(context, AclOperation.CREATE) && !broker.allowedTopic(context, AclOperation.CREATE, t.name())) {
                results.add(failed(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED.code(), "Authorization failed."));
                continue;
            }
            results.add(create(t, request.validateOnly()));
        }
        return Futures.all(results).thenApply(list -> {
            CreateTopicsResponse response = new CreateTopicsResponse();
            response.topics().addAll(list);
            return response;
        });
    }

    private CompletionStage<CreateTopicsResponse.CreatableTopicResult> create(CreateTopicsRequest.CreatableTopic t,
            boolean validateOnly) {
        int partitions = t.numPartitions();
        short replication = t.replicationFactor();
        if (!t.assignments().isEmpty()) {
            if (partitions != -1 || replication != -1) {
                return failed(t, ErrorCode.INVALID_REQUEST.code(),
                        "Both numPartitions or replicationFactor and replicasAssignments were set.");
            }
            partitions = t.assignments().size();
            replication = (short) t.assignments().getFirst().brokerIds().length;
            for (CreateTopicsRequest.CreatableReplicaAssignment a : t.assignments()) {
                for (int id : a.brokerIds()) {
                    if (id != broker.config().nodeId()) {
                        return failed(t, ErrorCode.INVALID_REPLICATION_FACTOR.code(),
                                "Unknown broker " + id + " in the replica assignment");
                    }
                }
            }
        }
        Map<String, String> configs = new LinkedHashMap<>();
        for (CreateTopicsRequest.CreatableTopicConfig c : t.configs()) {
            configs.put(c.name(), c.value());
        }
        NewTopic topic = new NewTopic(t.name(), partitions == -1 ? broker.config().defaultPartitions() : partitions,
                replication, configs);
        return broker.storage().createTopic(topic, validateOnly).handle((created, failure) -> {
            if (failure != null) {
                return new CreateTopicsResponse.CreatableTopicResult().setName(t.name())
                        .setErrorCode(Futures.errorCode(failure)).setErrorMessage(Futures.message(failure));
            }
            if (!validateOnly) {
                broker.topics().put(created);
            }
            return result(created);
        });
    }

    private static CreateTopicsResponse.CreatableTopicResult result(TopicInfo created) {
        CreateTopicsResponse.CreatableTopicResult result = new CreateTopicsResponse.CreatableTopicResult()
                .setName(created.name()).setTopicId(created.id())
                .setNumPartitions(created.partitionCount()).setReplicationFactor(created.replicationFactor());
        for (ConfigEntry e : TopicConfigs.describe(created.configs())) {
            result.configs().add(new CreateTopicsResponse.CreatableTopicConfigs().setName(e.name())
                    .setValue(e.value()).setReadOnly(false).setConfigSource(e.source().id()).setIsSensitive(false));
        }
        return result;
    }

    private static CompletionStage<CreateTopicsResponse.CreatableTopicResult> failed(
            CreateTopicsRequest.CreatableTopic t, short code, String message) {
        return CompletableFuture.completedFuture(new CreateTopicsResponse.CreatableTopicResult().setName(t.name())
                .setErrorCode(code).setErrorMessage(message));
    }
}
