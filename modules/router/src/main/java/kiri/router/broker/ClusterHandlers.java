package kiri.router.broker;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.message.DescribeClusterResponse;
import kiri.protocol.message.FindCoordinatorRequest;
import kiri.protocol.message.FindCoordinatorResponse;
import kiri.protocol.message.InitProducerIdRequest;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.storage.api.ProducerIdAndEpoch;

/** The small handlers that only need this broker's identity or one storage call. */
final class ClusterHandlers {
    static final int MAX_TRANSACTION_TIMEOUT_MS = 900_000;

    private ClusterHandlers() {
    }

    /** FindCoordinator: this broker coordinates every group and transactional id (v0-3 one key, v4+ batched). */
    static Handler findCoordinator(BrokerState broker) {
        return (context, message) -> {
            FindCoordinatorRequest request = (FindCoordinatorRequest) message;
            var config = broker.config();
            FindCoordinatorResponse response = new FindCoordinatorResponse();
            if (context.version() < 4) {
                if (!coordinatorAllowed(broker, context, request.keyType(), request.key())) {
                    return CompletableFuture.completedFuture(response.setErrorCode(refusal(request.keyType()))
                            .setNodeId(-1).setHost("").setPort(-1).setErrorMessage(null));
                }
                response.setNodeId(config.nodeId()).setHost(broker.advertisedHost(context)).setPort(broker.advertisedPort(context))
                        .setErrorMessage(null);
            } else {
                for (String key : request.coordinatorKeys()) {
                    if (!coordinatorAllowed(broker, context, request.keyType(), key)) {
                        response.coordinators().add(new FindCoordinatorResponse.Coordinator().setKey(key).setNodeId(-1)
                                .setHost("").setPort(-1).setErrorCode(refusal(request.keyType())).setErrorMessage(null));
                        continue;
                    }
                    response.coordinators().add(new FindCoordinatorResponse.Coordinator().setKey(key)
                            .setNodeId(config.nodeId()).setHost(broker.advertisedHost(context))
                            .setPort(broker.advertisedPort(context)).setErrorMessage(null));
                }
            }
            return CompletableFuture.completedFuture(response);
        };
    }

    /** DESCRIBE on the group (key type 0) or transactional id (1) whose coordinator is asked for, as Kafka checks. */
    private static boolean coordinatorAllowed(BrokerState broker, kiri.router.RequestContext context, byte keyType, String key) {
        return keyType == 1 ? broker.allowed(context, kiri.router.security.AclOperation.DESCRIBE,
                kiri.router.security.ResourceType.TRANSACTIONAL_ID, key)
                : broker.allowedGroup(context, kiri.router.security.AclOperation.DESCRIBE, key);
    }

    private static short refusal(byte keyType) {
        return (keyType == 1 ? kiri.protocol.ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                : kiri.protocol.ErrorCode.GROUP_AUTHORIZATION_FAILED).code();
    }

    /** DescribeCluster: this broker, which is also the controller. */
    static Handler describeCluster(BrokerState broker) {
        return (context, message) -> {
            var config = broker.config();
            DescribeClusterResponse response = new DescribeClusterResponse().setClusterId(config.clusterId())
                    .setControllerId(config.nodeId());
            response.brokers().add(new DescribeClusterResponse.DescribeClusterBroker().setBrokerId(config.nodeId())
                    .setHost(broker.advertisedHost(context)).setPort(broker.advertisedPort(context)));
            return CompletableFuture.completedFuture(response);
        };
    }

    /** InitProducerId: a new id for idempotent producers; epochs and fencing for transactional ids. */
    static Handler initProducerId(BrokerState broker) {
        return (context, message) -> {
            InitProducerIdRequest request = (InitProducerIdRequest) message;
            if (request.transactionalId() != null && request.transactionTimeoutMs() > MAX_TRANSACTION_TIMEOUT_MS) {
                // transaction.max.timeout.ms, Kafka's default
                return CompletableFuture.completedFuture(new InitProducerIdResponse()
                        .setErrorCode(kiri.storage.api.ErrorCodes.INVALID_TRANSACTION_TIMEOUT));
            }
            ProducerIdAndEpoch expected = new ProducerIdAndEpoch(request.producerId(), request.producerEpoch());
            CompletionStage<ProducerIdAndEpoch> init = broker.storage().initProducerId(request.transactionalId(),
                    request.transactionTimeoutMs(), expected);
            return init.handle((id, failure) -> failure != null
                    ? new InitProducerIdResponse().setErrorCode(Futures.errorCode(failure))
                    : new InitProducerIdResponse().setProducerId(id.producerId()).setProducerEpoch(id.epoch()));
        };
    }
}
