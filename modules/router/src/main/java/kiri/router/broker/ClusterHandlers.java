package kiri.router.broker;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.DescribeClusterResponse;
import kiri.protocol.message.FindCoordinatorRequest;
import kiri.protocol.message.FindCoordinatorResponse;
import kiri.protocol.message.InitProducerIdRequest;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.ProducerIdAndEpoch;

/** The small handlers that only need this broker's identity or one storage call. */
final class ClusterHandlers {
    static final int MAX_TRANSACTION_TIMEOUT_MS = 900_000;

    private ClusterHandlers() {
    }

    /**
     * FindCoordinator (v0-3 one key, v4+ batched): the live broker storage places the group or transactional id on
     * (this broker for single-node engines); COORDINATOR_NOT_AVAILABLE while storage knows no live broker for it.
     */
    static Handler findCoordinator(BrokerState broker) {
        return (context, message) -> {
            FindCoordinatorRequest request = (FindCoordinatorRequest) message;
            List<String> keys = context.version() < 4 ? List.of(request.key()) : request.coordinatorKeys();
            return broker.liveBrokers(context).thenApply(live -> {
                FindCoordinatorResponse response = new FindCoordinatorResponse();
                for (String key : keys) {
                    var c = new FindCoordinatorResponse.Coordinator().setKey(key).setErrorMessage(null);
                    BrokerInfo b = null;
                    if (!coordinatorAllowed(broker, context, request.keyType(), key)) {
                        c.setNodeId(-1).setHost("").setPort(-1).setErrorCode(refusal(request.keyType()));
                    } else {
                        int node = broker.storage().coordinator(key);
                        b = live.stream().filter(i -> i.nodeId() == node).findFirst().orElse(null);
                        if (b == null) {
                            c.setNodeId(-1).setHost("").setPort(-1)
                                    .setErrorCode(ErrorCode.COORDINATOR_NOT_AVAILABLE.code())
                                    .setErrorMessage("No live broker coordinates '" + key + "' yet");
                        } else {
                            c.setNodeId(b.nodeId()).setHost(b.host()).setPort(b.port());
                        }
                    }
                    if (context.version() < 4) {
                        response.setNodeId(c.nodeId()).setHost(c.host()).setPort(c.port()).setErrorCode(c.errorCode())
                                .setErrorMessage(c.errorMessage());
                    } else {
                        response.coordinators().add(c);
                    }
                }
                return response;
            });
        };
    }

    /** DESCRIBE on the group (key type 0) or transactional id (1) whose coordinator is asked for, as Kafka checks. */
    private static boolean coordinatorAllowed(BrokerState broker, kiri.router.RequestContext context, byte keyType, String key) {
        return keyType == 1 ? broker.allowed(context, kiri.router.security.AclOperation.DESCRIBE,
                kiri.router.security.ResourceType.TRANSACTIONAL_ID, key)
                : broker.allowedGroup(context, kiri.router.security.AclOperation.DESCRIBE, key);
    }

    private static short refusal(byte keyType) {
        return (keyType == 1 ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                : ErrorCode.GROUP_AUTHORIZATION_FAILED).code();
    }

    /** DescribeCluster: the live brokers; this broker answers as the controller. */
    static Handler describeCluster(BrokerState broker) {
        return (context, message) -> broker.liveBrokers(context).thenApply(live -> {
            var config = broker.config();
            DescribeClusterResponse response = new DescribeClusterResponse().setClusterId(config.clusterId())
                    .setControllerId(config.nodeId());
            for (BrokerInfo b : live) {
                response.brokers().add(new DescribeClusterResponse.DescribeClusterBroker().setBrokerId(b.nodeId())
                        .setHost(b.host()).setPort(b.port()).setRack(b.rack()));
            }
            return response;
        });
    }

    /** InitProducerId: a new id for idempotent producers; epochs and fencing for transactional ids. */
    static Handler initProducerId(BrokerState broker) {
        return (context, message) -> {
            InitProducerIdRequest request = (InitProducerIdRequest) message;
            if (request.transactionalId() != null && request.transactionTimeoutMs() > MAX_TRANSACTION_TIMEOUT_MS) {
                // transaction.max.timeout.ms, Kafka's default
                return CompletableFuture.completedFuture(new InitProducerIdResponse()
                        .setErrorCode(ErrorCode.INVALID_TRANSACTION_TIMEOUT.code()));
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
