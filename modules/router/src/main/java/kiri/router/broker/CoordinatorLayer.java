package kiri.router.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.AddOffsetsToTxnRequest;
import kiri.protocol.message.AddOffsetsToTxnResponse;
import kiri.protocol.message.AddPartitionsToTxnRequest;
import kiri.protocol.message.AddPartitionsToTxnResponse;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ConsumerGroupDescribeRequest;
import kiri.protocol.message.ConsumerGroupDescribeResponse;
import kiri.protocol.message.ConsumerGroupHeartbeatRequest;
import kiri.protocol.message.ConsumerGroupHeartbeatResponse;
import kiri.protocol.message.DeleteGroupsRequest;
import kiri.protocol.message.DeleteGroupsResponse;
import kiri.protocol.message.DescribeGroupsRequest;
import kiri.protocol.message.DescribeGroupsResponse;
import kiri.protocol.message.DescribeTransactionsRequest;
import kiri.protocol.message.DescribeTransactionsResponse;
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
import kiri.storage.api.Storage;

/**
 * NOT_COORDINATOR for group and transaction requests sent to a broker that does not coordinate their group or
 * transactional id ({@link Storage#coordinator}), as Kafka answers, so that clients look the coordinator up again
 * (FindCoordinator) instead of being served by a broker that is not where the key lives. APIs naming one key refuse
 * the whole request; batched ones (DescribeGroups, DeleteGroups, ConsumerGroupDescribe, OffsetFetch v8+,
 * DescribeTransactions) refuse the keys coordinated elsewhere and serve the rest. TxnOffsetCommit goes to the group's
 * coordinator, as in Kafka. Single-node engines coordinate every key, so the layer never refuses there.
 *
 * <p>Stateless: {@link Storage#coordinator} is a non-blocking read of the engine's cluster view.
 */
public final class CoordinatorLayer implements Layer {
    private static final short NOT_COORDINATOR = ErrorCode.NOT_COORDINATOR.code();

    private final Storage storage;

    public CoordinatorLayer(Storage storage) {
        this.storage = storage;
    }

    private boolean here(String key) {
        return storage.coordinator(key) == storage.nodeId();
    }

    @Override
    public Handler wrap(ApiKey api, Handler next) {
        return switch (api) {
            case JOIN_GROUP -> whole(next, r -> ((JoinGroupRequest) r).groupId(),
                    r -> new JoinGroupResponse().setErrorCode(NOT_COORDINATOR).setGenerationId(-1));
            case SYNC_GROUP -> whole(next, r -> ((SyncGroupRequest) r).groupId(),
                    r -> new SyncGroupResponse().setErrorCode(NOT_COORDINATOR));
            case HEARTBEAT -> whole(next, r -> ((HeartbeatRequest) r).groupId(),
                    r -> new HeartbeatResponse().setErrorCode(NOT_COORDINATOR));
            case LEAVE_GROUP -> whole(next, r -> ((LeaveGroupRequest) r).groupId(),
                    r -> new LeaveGroupResponse().setErrorCode(NOT_COORDINATOR));
            case CONSUMER_GROUP_HEARTBEAT -> whole(next, r -> ((ConsumerGroupHeartbeatRequest) r).groupId(),
                    r -> new ConsumerGroupHeartbeatResponse().setErrorCode(NOT_COORDINATOR)
                            .setErrorMessage(ErrorCode.NOT_COORDINATOR.message()));
            case OFFSET_COMMIT -> whole(next, r -> ((OffsetCommitRequest) r).groupId(),
                    r -> Refusals.offsetCommit((OffsetCommitRequest) r, NOT_COORDINATOR));
            case OFFSET_DELETE -> whole(next, r -> ((OffsetDeleteRequest) r).groupId(),
                    r -> new OffsetDeleteResponse().setErrorCode(NOT_COORDINATOR));
            case TXN_OFFSET_COMMIT -> whole(next, r -> ((TxnOffsetCommitRequest) r).groupId(),
                    r -> Refusals.txnOffsetCommit((TxnOffsetCommitRequest) r, NOT_COORDINATOR));
            case INIT_PRODUCER_ID -> whole(next, r -> ((InitProducerIdRequest) r).transactionalId(), // null: idempotent only
                    r -> new InitProducerIdResponse().setErrorCode(NOT_COORDINATOR).setProducerId(-1).setProducerEpoch((short) -1));
            case ADD_OFFSETS_TO_TXN -> whole(next, r -> ((AddOffsetsToTxnRequest) r).transactionalId(),
                    r -> new AddOffsetsToTxnResponse().setErrorCode(NOT_COORDINATOR));
            case END_TXN -> whole(next, r -> ((EndTxnRequest) r).transactionalId(),
                    r -> new EndTxnResponse().setErrorCode(NOT_COORDINATOR));
            case ADD_PARTITIONS_TO_TXN -> (context, message) -> {
                AddPartitionsToTxnRequest r = (AddPartitionsToTxnRequest) message;
                if (context.version() > 3) {
                    return perKey(next, context, message, r.transactions(), AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction::transactionalId,
                            AddPartitionsToTxnResponse::new, (answer, t) -> {
                                var result = new AddPartitionsToTxnResponse.AddPartitionsToTxnResult().setTransactionalId(t.transactionalId());
                                result.topicResults().addAll(TxnHandlers.results(t.topics(), Map.of(), NOT_COORDINATOR));
                                ((AddPartitionsToTxnResponse) answer).resultsByTransaction().add(result);
                            });
                }
                if (here(r.v3AndBelowTransactionalId())) return next.handle(context, message);
                AddPartitionsToTxnResponse response = new AddPartitionsToTxnResponse();
                response.resultsByTopicV3AndBelow().addAll(TxnHandlers.results(r.v3AndBelowTopics(), Map.of(), NOT_COORDINATOR));
                return CompletableFuture.completedFuture(response);
            };
            case OFFSET_FETCH -> (context, message) -> {
                OffsetFetchRequest r = (OffsetFetchRequest) message;
                if (context.version() < 8) {
                    return here(r.groupId()) ? next.handle(context, message)
                            : CompletableFuture.completedFuture(Refusals.offsetFetch(r, NOT_COORDINATOR));
                }
                return perKey(next, context, message, r.groups(), OffsetFetchRequest.OffsetFetchRequestGroup::groupId,
                        OffsetFetchResponse::new, (answer, g) -> ((OffsetFetchResponse) answer).groups().add(
                                new OffsetFetchResponse.OffsetFetchResponseGroup().setGroupId(g.groupId()).setErrorCode(NOT_COORDINATOR)));
            };
            case DESCRIBE_GROUPS -> (context, message) -> perKey(next, context, message, ((DescribeGroupsRequest) message).groups(),
                    Function.identity(), DescribeGroupsResponse::new, (answer, id) -> ((DescribeGroupsResponse) answer).groups().add(
                            new DescribeGroupsResponse.DescribedGroup().setGroupId(id).setErrorCode(NOT_COORDINATOR)));
            case DELETE_GROUPS -> (context, message) -> perKey(next, context, message, ((DeleteGroupsRequest) message).groupsNames(),
                    Function.identity(), DeleteGroupsResponse::new, (answer, id) -> ((DeleteGroupsResponse) answer).results().add(
                            new DeleteGroupsResponse.DeletableGroupResult().setGroupId(id).setErrorCode(NOT_COORDINATOR)));
            case CONSUMER_GROUP_DESCRIBE -> (context, message) -> perKey(next, context, message,
                    ((ConsumerGroupDescribeRequest) message).groupIds(), Function.identity(), ConsumerGroupDescribeResponse::new,
                    (answer, id) -> ((ConsumerGroupDescribeResponse) answer).groups().add(new ConsumerGroupDescribeResponse.DescribedGroup()
                            .setGroupId(id).setErrorCode(NOT_COORDINATOR).setErrorMessage(ErrorCode.NOT_COORDINATOR.message())));
            case DESCRIBE_TRANSACTIONS -> (context, message) -> perKey(next, context, message,
                    ((DescribeTransactionsRequest) message).transactionalIds(), Function.identity(), DescribeTransactionsResponse::new,
                    (answer, id) -> ((DescribeTransactionsResponse) answer).transactionStates().add(
                            new DescribeTransactionsResponse.TransactionState().setTransactionalId(id).setErrorCode(NOT_COORDINATOR)));
            default -> next;
        };
    }

    /** A request naming one key (null: none, served): refused whole when another broker coordinates the key. */
    private Handler whole(Handler next, Function<ApiMessage, String> key, Function<ApiMessage, ApiMessage> refused) {
        return (context, message) -> {
            String k = key.apply(message);
            return k == null || here(k) ? next.handle(context, message) : CompletableFuture.completedFuture(refused.apply(message));
        };
    }

    /**
     * A batched request: the entries whose key another broker coordinates are taken out of the request (which is
     * this request's own decoded copy) and answered NOT_COORDINATOR after the rest.
     */
    private <E> CompletionStage<? extends ApiMessage> perKey(Handler next, kiri.router.RequestContext context, ApiMessage message,
                                                             List<E> entries, Function<E, String> key, Supplier<ApiMessage> empty,
                                                             BiConsumer<ApiMessage, E> refuse) {
        List<E> elsewhere = new ArrayList<>();
        entries.removeIf(e -> !here(key.apply(e)) && elsewhere.add(e));
        if (elsewhere.isEmpty()) return next.handle(context, message);
        CompletionStage<? extends ApiMessage> rest = entries.isEmpty()
                ? CompletableFuture.completedFuture(empty.get()) : next.handle(context, message);
        return rest.thenApply(answer -> {
            for (E e : elsewhere) refuse.accept(answer, e);
            return answer;
        });
    }
}
