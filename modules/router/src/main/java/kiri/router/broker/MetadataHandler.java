package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.Codec;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.MetadataRequest;
import kiri.protocol.message.MetadataResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.storage.api.NewTopic;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicRef;

/**
 * Metadata: the live brokers, and the topics asked for (leaders as storage places them now) (all when the list is null). Unknown topics are
 * created when the request allows it and the broker is configured to ({@code --auto-create-topics}).
 */
final class MetadataHandler implements Handler {
    private final BrokerState broker;

    MetadataHandler(BrokerState broker) {
        this.broker = broker;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage message) {
        MetadataRequest request = (MetadataRequest) message;
        CompletionStage<List<MetadataResponse.MetadataResponseTopic>> topics;
        if (request.topics() == null) {
            topics = broker.storage().listTopics().thenApply(all -> {
                List<MetadataResponse.MetadataResponseTopic> out = new ArrayList<>(all.size());
                for (TopicInfo t : all) {
                    broker.topics().put(t);
                    if (broker.allowedTopic(context, AclOperation.DESCRIBE, t.name())) { // hide the others, as Kafka does
                        out.add(describe(t));
                    }
                }
                return out;
            });
        } else {
            // Metadata v4+ says whether auto-creation is allowed; v1-3 clients always allowed it
            boolean create = broker.config().autoCreateTopics() && request.allowAutoTopicCreation();
            List<CompletionStage<MetadataResponse.MetadataResponseTopic>> each = new ArrayList<>();
            for (MetadataRequest.MetadataRequestTopic t : request.topics()) {
                each.add(topic(context, t, create));
            }
            topics = Futures.all(each);
        }
        return topics.thenCombine(broker.liveBrokers(context), (list, live) -> {
            MetadataResponse response = new MetadataResponse()
                    .setClusterId(broker.config().clusterId())
                    .setControllerId(broker.config().nodeId());
            for (kiri.storage.api.BrokerInfo b : live) {
                response.brokers().add(new MetadataResponse.MetadataResponseBroker()
                        .setNodeId(b.nodeId()).setHost(b.host()).setPort(b.port()).setRack(b.rack()));
            }
            response.topics().addAll(list);
            return response;
        });
    }

    private CompletionStage<MetadataResponse.MetadataResponseTopic> topic(RequestContext context,
            MetadataRequest.MetadataRequestTopic t, boolean create) {
        // by id when one is given without a name (v10+; some clients send "" rather than null)
        boolean byId = t.topicId() != null && !t.topicId().equals(Codec.ZERO_UUID) && (t.name() == null || t.name().isEmpty());
        TopicRef ref = !byId && t.name() != null ? TopicRef.of(t.name()) : TopicRef.of(t.topicId());
        if (!byId && t.name() != null) {
            try {
                kiri.storage.api.Topics.validateName(t.name());
            } catch (StorageException e) {
                return CompletableFuture.completedFuture(error(t, e.errorCode()));
            }
        }
        if (!byId && t.name() != null && !broker.allowedTopic(context, AclOperation.DESCRIBE, t.name())) {
            return CompletableFuture.completedFuture(error(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED.code()));
        }
        return broker.topics().get(ref).thenCompose(found -> {
            if (found != null) {
                return CompletableFuture.completedFuture(byId && !broker.allowedTopic(context, AclOperation.DESCRIBE,
                        found.name()) ? error(t, ref.unknownError().code()) : describe(found));
            }
            if (!create || byId || t.name() == null) {
                return CompletableFuture.completedFuture(error(t, ref.unknownError().code()));
            }
            if (!broker.allowedCluster(context, AclOperation.CREATE)
                    && !broker.allowedTopic(context, AclOperation.CREATE, t.name())) {
                return CompletableFuture.completedFuture(error(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED.code()));
            }
            NewTopic topic = new NewTopic(t.name(), broker.config().defaultPartitions());
            return broker.storage().createTopic(topic, false).handle((created, failure) -> {
                if (failure == null) {
                    broker.topics().put(created);
                    return CompletableFuture.completedFuture(describe(created));
                }
                if (Futures.errorCode(failure) == ErrorCode.TOPIC_ALREADY_EXISTS.code()) {
                    // another client created it first: answer with what exists now
                    return broker.topics().get(ref).thenApply(now -> now == null
                            ? error(t, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code()) : describe(now));
                }
                return CompletableFuture.completedFuture(error(t, Futures.errorCode(failure)));
            }).thenCompose(stage -> stage);
        });
    }

    private static MetadataResponse.MetadataResponseTopic error(MetadataRequest.MetadataRequestTopic t, short code) {
        return new MetadataResponse.MetadataResponseTopic().setErrorCode(code).setName(t.name())
                .setTopicId(t.topicId() == null ? Codec.ZERO_UUID : t.topicId());
    }

    private MetadataResponse.MetadataResponseTopic describe(TopicInfo t) {
        MetadataResponse.MetadataResponseTopic topic = new MetadataResponse.MetadataResponseTopic()
                .setName(t.name()).setTopicId(t.id()).setIsInternal(false);
        for (PartitionInfo stored : t.partitions()) {
            PartitionInfo p = broker.storage().placement(t, stored); // who leads it now
            topic.partitions().add(new MetadataResponse.MetadataResponsePartition()
                    .setPartitionIndex(p.partition())
                    .setLeaderId(p.leaderId())
                    .setLeaderEpoch(p.leaderEpoch())
                    .setReplicaNodes(BrokerState.replicas(p))
                    .setIsrNodes(BrokerState.isr(p)));
        }
        return topic;
    }
}
