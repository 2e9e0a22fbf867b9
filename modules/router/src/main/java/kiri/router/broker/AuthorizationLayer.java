package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.AddOffsetsToTxnRequest;
import kiri.protocol.message.AddOffsetsToTxnResponse;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ConsumerGroupHeartbeatRequest;
import kiri.protocol.message.ConsumerGroupHeartbeatResponse;
import kiri.protocol.message.DescribeLogDirsResponse;
import kiri.protocol.message.EndTxnRequest;
import kiri.protocol.message.EndTxnResponse;
import kiri.protocol.message.HeartbeatRequest;
import kiri.protocol.message.HeartbeatResponse;
import kiri.protocol.message.InitProducerIdRequest;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.protocol.message.JoinGroupRequest;
import kiri.protocol.message.JoinGroupResponse;
import kiri.protocol.message.LeaveGroupRequest;
import kiri.protocol.message.LeaveGroupResponse;
import kiri.protocol.message.OffsetCommitRequest;
import kiri.protocol.message.OffsetDeleteRequest;
import kiri.protocol.message.OffsetDeleteResponse;
import kiri.protocol.message.OffsetFetchRequest;
import kiri.protocol.message.OffsetFetchResponse;
import kiri.protocol.message.SyncGroupRequest;
import kiri.protocol.message.SyncGroupResponse;
import kiri.protocol.message.TxnOffsetCommitRequest;
import kiri.router.Handler;
import kiri.router.Layer;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.router.security.BrokerSecurity;
import kiri.router.security.ResourceType;

/**
 * The ACL checks of APIs that name one group or transactional id at the top of the request (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, ConsumerGroupHeartbeat, ConsumerGroupDescribe, OffsetCommit, OffsetFetch, OffsetDelete, InitProducerId,
 * AddOffsetsToTxn, TxnOffsetCommit, EndTxn, DescribeLogDirs): a refused request is answered with Kafka's error
 * without reaching its handler. Checks that depend on each named resource (topics in Produce, Fetch, Metadata,
 * the admin APIs) are in the handlers. Without an authorizer the layer adds nothing.
 */
public final class AuthorizationLayer implements Layer {
    private final BrokerSecurity security;

    public AuthorizationLayer(BrokerSecurity security) {
        this.security = security;
    }

    @Override
    public Handler wrap(ApiKey api, Handler next) {
        if (!security.authorizer().enabled()) {
            return next;
        }
        return switch (api) {
            case JOIN_GROUP -> group(next, AclOperation.READ, r -> ((JoinGroupRequest) r).groupId(),
                    () -> new JoinGroupResponse().setErrorCode(group()).setGenerationId(-1));
            case SYNC_GROUP -> group(next, AclOperation.READ, r -> ((SyncGroupRequest) r).groupId(),
                    () -> new SyncGroupResponse().setErrorCode(group()));
            case HEARTBEAT -> group(next, AclOperation.READ, r -> ((HeartbeatRequest) r).groupId(),
                    () -> new HeartbeatResponse().setErrorCode(group()));
            case LEAVE_GROUP -> group(next, AclOperation.READ, r -> ((LeaveGroupRequest) r).groupId(),
                    () -> new LeaveGroupResponse().setErrorCode(group()));
            case CONSUMER_GROUP_HEARTBEAT -> group(next, AclOperation.READ, r -> ((ConsumerGroupHeartbeatRequest) r).groupId(),
                    () -> new ConsumerGroupHeartbeatResponse().setErrorCode(group())
                            .setErrorMessage(ErrorCode.GROUP_AUTHORIZATION_FAILED.message()));
            case OFFSET_COMMIT -> (context, message) -> {
                OffsetCommitRequest r = (OffsetCommitRequest) message;
                if (allowed(context, AclOperation.READ, ResourceType.GROUP, r.groupId())) {
                    return next.handle(context, message);
                }
                return CompletableFuture.completedFuture(Refusals.offsetCommit(r, group()));
            };
            case OFFSET_FETCH -> offsetFetch(next);
            case CONSUMER_GROUP_DESCRIBE -> (context, message) -> {
                List<String> ids = ((kiri.protocol.message.ConsumerGroupDescribeRequest) message).groupIds();
                List<String> denied = new ArrayList<>();
                ids.removeIf(id -> !allowed(context, AclOperation.DESCRIBE, ResourceType.GROUP, id) && denied.add(id));
                CompletionStage<? extends ApiMessage> rest = ids.isEmpty() && !denied.isEmpty()
                        ? CompletableFuture.completedFuture(new kiri.protocol.message.ConsumerGroupDescribeResponse())
                        : next.handle(context, message);
                return denied.isEmpty() ? rest : rest.thenApply(answer -> {
                    for (String id : denied) {
                        ((kiri.protocol.message.ConsumerGroupDescribeResponse) answer).groups().add(
                                new kiri.protocol.message.ConsumerGroupDescribeResponse.DescribedGroup().setGroupId(id)
                                        .setErrorCode(group()).setErrorMessage(ErrorCode.GROUP_AUTHORIZATION_FAILED.message()));
                    }
                    return answer;
                });
            };
            case OFFSET_DELETE -> group(next, AclOperation.DELETE, r -> ((OffsetDeleteRequest) r).groupId(),
                    () -> new OffsetDeleteResponse().setErrorCode(group()));
            case INIT_PRODUCER_ID -> (context, message) -> {
                String txn = ((InitProducerIdRequest) message).transactionalId();
                ErrorCode refused = txn != null
                        ? allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, txn) ? null
                                : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                        // an idempotent producer: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic
                        : security.authorizer().authorizeCluster(context.session(), AclOperation.IDEMPOTENT_WRITE)
                                || security.authorizer().authorizeAny(context.session(), AclOperation.WRITE, ResourceType.TOPIC)
                                ? null : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
                return refused == null ? next.handle(context, message) : CompletableFuture.completedFuture(
                        new InitProducerIdResponse().setErrorCode(refused.code()).setProducerId(-1).setProducerEpoch((short) -1));
            };
            case ADD_OFFSETS_TO_TXN -> (context, message) -> {
                AddOffsetsToTxnRequest r = (AddOffsetsToTxnRequest) message;
                ErrorCode refused = !allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, r.transactionalId())
                        ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                        : !allowed(context, AclOperation.READ, ResourceType.GROUP, r.groupId()) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : null;
                return refused == null ? next.handle(context, message)
                        : CompletableFuture.completedFuture(new AddOffsetsToTxnResponse().setErrorCode(refused.code()));
            };
            case END_TXN -> (context, message) -> allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID,
                    ((EndTxnRequest) message).transactionalId()) ? next.handle(context, message)
                    : CompletableFuture.completedFuture(new EndTxnResponse()
                            .setErrorCode(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
            case TXN_OFFSET_COMMIT -> (context, message) -> {
                TxnOffsetCommitRequest r = (TxnOffsetCommitRequest) message;
                ErrorCode refused = !allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, r.transactionalId())
                        ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                        : !allowed(context, AclOperation.READ, ResourceType.GROUP, r.groupId()) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : null;
                if (refused == null) {
                    return next.handle(context, message);
                }
                return CompletableFuture.completedFuture(Refusals.txnOffsetCommit(r, refused.code()));
            };
            case DESCRIBE_LOG_DIRS -> (context, message) -> security.authorizer().authorizeCluster(context.session(),
                    AclOperation.DESCRIBE) ? next.handle(context, message) : CompletableFuture.completedFuture(
                    new DescribeLogDirsResponse().setErrorCode(ErrorCode.CLUSTER_AUTHORIZATION_FAILED.code()));
            default -> next;
        };
    }

    private static short group() {
        return ErrorCode.GROUP_AUTHORIZATION_FAILED.code();
    }

    private boolean allowed(RequestContext context, AclOperation operation, ResourceType type, String name) {
        return security.authorizer().authorize(context.session(), operation, type, name);
    }

    private Handler group(Handler next, AclOperation operation, java.util.function.Function<ApiMessage, String> groupId,
            java.util.function.Supplier<ApiMessage> refused) {
        return (context, message) -> allowed(context, operation, ResourceType.GROUP, groupId.apply(message))
                ? next.handle(context, message) : CompletableFuture.completedFuture(refused.get());
    }

    /** OffsetFetch: DESCRIBE on each group; v8+ groups the principal may not describe are answered apart. */
    private Handler offsetFetch(Handler next) {
        return (context, message) -> {
            OffsetFetchRequest r = (OffsetFetchRequest) message;
            if (context.version() < 8) {
                if (allowed(context, AclOperation.DESCRIBE, ResourceType.GROUP, r.groupId())) {
                    return next.handle(context, message);
                }
                return CompletableFuture.completedFuture(Refusals.offsetFetch(r, group()));
            }
            List<OffsetFetchRequest.OffsetFetchRequestGroup> denied = new ArrayList<>();
            r.groups().removeIf(g -> !allowed(context, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId()) && denied.add(g));
            if (denied.isEmpty()) {
                return next.handle(context, message);
            }
            CompletionStage<? extends ApiMessage> rest = r.groups().isEmpty()
                    ? CompletableFuture.completedFuture(new OffsetFetchResponse()) : next.handle(context, message);
            return rest.thenApply(answer -> {
                for (var g : denied) {
                    ((OffsetFetchResponse) answer).groups().add(new OffsetFetchResponse.OffsetFetchResponseGroup()
                            .setGroupId(g.groupId()).setErrorCode(group()));
                }
                return answer;
            });
        };
    }
}
