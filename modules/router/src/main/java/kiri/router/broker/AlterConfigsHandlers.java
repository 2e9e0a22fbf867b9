package kiri.router.broker;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.AlterConfigsRequest;
import kiri.protocol.message.AlterConfigsResponse;
import kiri.protocol.message.IncrementalAlterConfigsRequest;
import kiri.protocol.message.IncrementalAlterConfigsResponse;
import kiri.router.Handler;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicRef;

/**
 * IncrementalAlterConfigs and the legacy AlterConfigs, for topics (what {@code kafka-configs.sh --alter}
 * and {@code Admin.incrementalAlterConfigs} send). Kiri has no dynamic broker or logger configs: such
 * resources get INVALID_REQUEST, each resource its own result. The legacy call replaces every override
 * of the topic, so it is expressed as a DELETE of each current override not named plus a SET of each
 * named one (not atomic against a concurrent alter of the same topic).
 */
final class AlterConfigsHandlers {
    private static final byte TOPIC = 2;

    private AlterConfigsHandlers() {
    }

    /** One resource's outcome, for either response version. */
    private record Outcome(byte resourceType, String resourceName, short errorCode, String errorMessage) {
        static Outcome ok(byte type, String name) {
            return new Outcome(type, name, ErrorCode.NONE.code(), null);
        }

        static Outcome failed(byte type, String name, Throwable failure) {
            return new Outcome(type, name, Futures.errorCode(failure), Futures.message(failure));
        }
    }

    static Handler incremental(BrokerState broker) {
        return (context, message) -> {
            IncrementalAlterConfigsRequest request = (IncrementalAlterConfigsRequest) message;
            List<CompletionStage<Outcome>> outcomes = new ArrayList<>();
            Set<String> duplicates = duplicates(request.resources().stream().map(r -> r.resourceType() + "/" + r.resourceName()).toList());
            for (IncrementalAlterConfigsRequest.AlterConfigsResource r : request.resources()) {
                outcomes.add(alter(broker, context, r.resourceType(), r.resourceName(), duplicates, request.validateOnly(),
                        r.configs().stream().map(IncrementalAlterConfigsRequest.AlterableConfig::name).toList(), current -> {
                            List<ConfigOp> ops = new ArrayList<>();
                            for (IncrementalAlterConfigsRequest.AlterableConfig c : r.configs()) {
                                ops.add(new ConfigOp(c.name(), ConfigOp.Type.fromCode(c.configOperation()), c.value()));
                            }
                            return ops;
                        }));
            }
            return Futures.all(outcomes).thenApply(list -> {
                IncrementalAlterConfigsResponse response = new IncrementalAlterConfigsResponse();
                for (Outcome o : list) {
                    response.responses().add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse()
                            .setResourceType(o.resourceType()).setResourceName(o.resourceName())
                            .setErrorCode(o.errorCode()).setErrorMessage(o.errorMessage()));
                }
                return response;
            });
        };
    }

    static Handler legacy(BrokerState broker) {
        return (context, message) -> {
            AlterConfigsRequest request = (AlterConfigsRequest) message;
            List<CompletionStage<Outcome>> outcomes = new ArrayList<>();
            Set<String> duplicates = duplicates(request.resources().stream().map(r -> r.resourceType() + "/" + r.resourceName()).toList());
            for (AlterConfigsRequest.AlterConfigsResource r : request.resources()) {
                List<String> names = r.configs().stream().map(AlterConfigsRequest.AlterableConfig::name).toList();
                outcomes.add(alter(broker, context, r.resourceType(), r.resourceName(), duplicates, request.validateOnly(), names,
                        current -> {
                            List<ConfigOp> ops = new ArrayList<>();
                            for (String name : current.configs().keySet()) {
                                if (!names.contains(name)) {
                                    ops.add(ConfigOp.delete(name));
                                }
                            }
                            for (AlterConfigsRequest.AlterableConfig c : r.configs()) {
                                ops.add(c.value() == null ? ConfigOp.delete(c.name()) : ConfigOp.set(c.name(), c.value()));
                            }
                            return ops;
                        }));
            }
            return Futures.all(outcomes).thenApply(list -> {
                AlterConfigsResponse response = new AlterConfigsResponse();
                for (Outcome o : list) {
                    response.responses().add(new AlterConfigsResponse.AlterConfigsResourceResponse()
                            .setResourceType(o.resourceType()).setResourceName(o.resourceName())
                            .setErrorCode(o.errorCode()).setErrorMessage(o.errorMessage()));
                }
                return response;
            });
        };
    }

    /**
     * Checks the resource, builds its operations from the topic's current state, and applies them
     * (the topic cache learns the new overrides unless {@code validateOnly}).
     */
    private static CompletionStage<Outcome> alter(BrokerState broker, kiri.router.RequestContext context, byte type,
            String name, Set<String> duplicates, boolean validateOnly, List<String> configNames,
            java.util.function.Function<TopicInfo, List<ConfigOp>> ops) {
        boolean allowed = type == TOPIC ? broker.allowedTopic(context, kiri.router.security.AclOperation.ALTER_CONFIGS, name)
                : broker.allowedCluster(context, kiri.router.security.AclOperation.ALTER_CONFIGS);
        if (!allowed) {
            return CompletableFuture.completedFuture(Outcome.failed(type, name, new StorageException(type == TOPIC
                    ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Authorization failed.")));
        }
        if (type != TOPIC) {
            return CompletableFuture.completedFuture(Outcome.failed(type, name, new StorageException(
                    ErrorCode.INVALID_REQUEST, "Kiri has no dynamic configs for resource type " + type + "; only topics (2)")));
        }
        if (duplicates.contains(type + "/" + name)) {
            return CompletableFuture.completedFuture(Outcome.failed(type, name, new StorageException(
                    ErrorCode.INVALID_REQUEST, "Error due to duplicate resource " + name)));
        }
        Set<String> dupNames = duplicates(configNames);
        if (!dupNames.isEmpty()) {
            return CompletableFuture.completedFuture(Outcome.failed(type, name, new StorageException(
                    ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys " + dupNames)));
        }
        BiFunction<TopicInfo, Throwable, CompletionStage<Outcome>> apply = (current, failure) -> {
            if (failure != null) {
                return CompletableFuture.completedFuture(Outcome.failed(type, name, failure));
            }
            if (current == null) {
                return CompletableFuture.completedFuture(Outcome.failed(type, name, new StorageException(
                        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic " + name + " does not exist")));
            }
            List<ConfigOp> list;
            try {
                list = ops.apply(current);
            } catch (StorageException e) {
                return CompletableFuture.completedFuture(Outcome.failed(type, name, e));
            }
            return broker.storage().alterTopicConfigs(name, list, validateOnly).handle((altered, error) -> {
                if (error != null) {
                    return Outcome.failed(type, name, error);
                }
                if (!validateOnly) {
                    broker.topics().put(altered);
                }
                return Outcome.ok(type, name);
            });
        };
        return broker.topics().get(TopicRef.of(name)).handle(apply).thenCompose(stage -> stage);
    }

    private static Set<String> duplicates(List<String> keys) {
        Set<String> seen = new HashSet<>();
        Set<String> twice = new HashSet<>();
        for (String k : keys) {
            if (!seen.add(k)) {
                twice.add(k);
            }
        }
        return twice;
    }
}
