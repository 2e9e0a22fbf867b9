package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.DescribeConfigsRequest;
import kiri.protocol.message.DescribeConfigsResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.storage.api.ConfigEntry;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicRef;

/** DescribeConfigs: a topic's effective configs (overrides and Kafka's defaults), and this broker's settings. */
final class DescribeConfigsHandler implements Handler {
    private static final byte TOPIC = 2;
    private static final byte BROKER = 4;

    private final BrokerState broker;

    DescribeConfigsHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeConfigsRequest request = (DescribeConfigsRequest) message;
        List<CompletionStage<DescribeConfigsResponse.DescribeConfigsResult>> results = new ArrayList<>();
        for (DescribeConfigsRequest.DescribeConfigsResource r : request.resources()) {
            var result = new DescribeConfigsResponse.DescribeConfigsResult().setResourceType(r.resourceType())
                    .setResourceName(r.resourceName());
            boolean allowed = r.resourceType() == TOPIC
                    ? broker.allowedTopic(context, AclOperation.DESCRIBE_CONFIGS, r.resourceName())
                    : broker.allowedCluster(context, AclOperation.DESCRIBE_CONFIGS);
            if (!allowed && (r.resourceType() == TOPIC || r.resourceType() == BROKER)) {
                results.add(CompletableFuture.completedFuture(result.setErrorCode((r.resourceType() == TOPIC
                        ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.CLUSTER_AUTHORIZATION_FAILED).code())
                        .setErrorMessage(null)));
                continue;
            }
            switch (r.resourceType()) {
                case TOPIC -> results.add(broker.topics().get(TopicRef.of(r.resourceName())).thenApply(topic -> {
                    if (topic == null) {
                        return result.setErrorCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code())
                                .setErrorMessage("Topic " + r.resourceName() + " does not exist");
                    }
                    return rows(result, TopicConfigs.describe(topic.configs()), r, request.includeSynonyms(), false);
                }));
                case BROKER -> results.add(CompletableFuture.completedFuture(broker(result, r, request.includeSynonyms())));
                default -> results.add(CompletableFuture.completedFuture(result.setErrorCode(ErrorCode.INVALID_REQUEST.code())
                        .setErrorMessage("unsupported resource type " + r.resourceType())));
            }
        }
        return Futures.all(results).thenApply(list -> {
            DescribeConfigsResponse response = new DescribeConfigsResponse();
            response.results().addAll(list);
            return response;
        });
    }

    /**
     * This broker's settings for its own id; none for the empty name (cluster-wide dynamic defaults, which Kiri
     * has none of); another broker's id is Kafka's INVALID_REQUEST (the client sends it to that broker).
     */
    private DescribeConfigsResponse.DescribeConfigsResult broker(DescribeConfigsResponse.DescribeConfigsResult result,
            DescribeConfigsRequest.DescribeConfigsResource r, boolean synonyms) {
        if (r.resourceName().isEmpty()) {
            return result;
        }
        if (!r.resourceName().equals(Integer.toString(broker.config().nodeId()))) {
            return result.setErrorCode(ErrorCode.INVALID_REQUEST.code()).setErrorMessage("Unexpected broker id, expected "
                    + broker.config().nodeId() + " or empty string, but received " + r.resourceName());
        }
        // static broker settings cannot change while it runs: read-only, as Kafka marks them
        return rows(result, BrokerConfigs.describe(broker.config()), r, synonyms, true);
    }

    private static DescribeConfigsResponse.DescribeConfigsResult rows(DescribeConfigsResponse.DescribeConfigsResult result,
            List<ConfigEntry> entries, DescribeConfigsRequest.DescribeConfigsResource r, boolean synonyms, boolean readOnly) {
        for (ConfigEntry e : entries) {
            if (r.configurationKeys() != null && !r.configurationKeys().contains(e.name())) {
                continue;
            }
            var c = new DescribeConfigsResponse.DescribeConfigsResourceResult().setName(e.name())
                    .setValue(e.value()).setReadOnly(readOnly).setIsSensitive(false)
                    .setConfigSource(e.source().id()).setConfigType(e.type().id());
            if (synonyms) {
                c.synonyms().add(new DescribeConfigsResponse.DescribeConfigsSynonym().setName(e.name())
                        .setValue(e.value()).setSource(e.source().id()));
            }
            result.configs().add(c);
        }
        return result;
    }
}
