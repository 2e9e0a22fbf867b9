package kiri.router.broker;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import kiri.coordinator.GroupCoordinator;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.AddOffsetsToTxnRequest;
import kiri.protocol.message.AddOffsetsToTxnResponse;
import kiri.protocol.message.AddPartitionsToTxnRequest;
import kiri.protocol.message.AddPartitionsToTxnResponse;
import kiri.protocol.message.DescribeProducersRequest;
import kiri.protocol.message.DescribeProducersResponse;
import kiri.protocol.message.DescribeTransactionsRequest;
import kiri.protocol.message.DescribeTransactionsResponse;
import kiri.protocol.message.EndTxnRequest;
import kiri.protocol.message.EndTxnResponse;
import kiri.protocol.message.ListTransactionsRequest;
import kiri.protocol.message.ListTransactionsResponse;
import kiri.protocol.message.TxnOffsetCommitRequest;
import kiri.protocol.message.TxnOffsetCommitResponse;
import kiri.router.Handler;
import java.util.HashMap;
import kiri.router.RequestContext;
import kiri.router.security.ResourceType;
import kiri.router.security.AclOperation;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;

/**
 * The transaction coordinator's APIs over the storage SPI (which keeps transactional state, writes the
 * markers and fences producers): AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit (group checks by
 * the {@link GroupCoordinator}), EndTxn, DescribeTransactions, ListTransactions, DescribeProducers.
 */
final class TxnHandlers {
    private TxnHandlers() {
    }

    private static List<TopicPartition> partitions(List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics) {
        List<TopicPartition> out = new ArrayList<>();
        for (AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t : topics) {
            for (int p : t.partitions()) out.add(new TopicPartition(t.name(), p));
        }
        return out;
    }

    static List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> results(
            List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics, Map<TopicPartition, Short> errors, short all) {
        List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> out = new ArrayList<>();
        for (AddPartitionsToTxnRequest.AddPartitionsToTxnTopic t : topics) {
            AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult r = new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult()
                    .setName(t.name());
            for (int p : t.partitions()) {
                short error = all != ErrorCode.NONE.code() ? all
                        : errors.getOrDefault(new TopicPartition(t.name(), p), ErrorCode.NONE.code());
                r.resultsByPartition().add(new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult()
                        .setPartitionIndex(p).setPartitionErrorCode(error));
            }
            out.add(r);
        }
        return out;
    }

    /** Adds (or, for a broker's verifyOnly request, checks) partitions; the whole-request failure goes on every partition. */
    private static CompletionStage<List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult>> add(BrokerState broker,
            RequestContext context, String transactionalId, long producerId, short epoch, boolean verifyOnly,
            List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics) {
        List<TopicPartition> partitions = partitions(topics);
        // Kafka's checks: WRITE on the transactional id, then WRITE on each topic (the others are not attempted)
        if (!broker.allowed(context, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
            return CompletableFuture.completedFuture(results(topics, Map.of(),
                    ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code()));
        }
        Map<TopicPartition, Short> refused = new HashMap<>();
        for (TopicPartition tp : partitions) {
            if (!broker.allowedTopic(context, AclOperation.WRITE, tp.topic())) {
                refused.put(tp, ErrorCode.TOPIC_AUTHORIZATION_FAILED.code());
            }
        }
        if (!refused.isEmpty()) {
            for (TopicPartition tp : partitions) {
                refused.putIfAbsent(tp, ErrorCode.OPERATION_NOT_ATTEMPTED.code());
            }
            return CompletableFuture.completedFuture(results(topics, refused, ErrorCode.NONE.code()));
        }
        ProducerIdAndEpoch producer = new ProducerIdAndEpoch(producerId, epoch);
        if (verifyOnly) {
            return broker.storage().describeTransactions(List.of(transactionalId)).handle((txns, failure) -> {
                if (failure != null) return results(topics, Map.of(), Futures.errorCode(failure));
                Set<TopicPartition> in = txns.isEmpty() || txns.getFirst().producerId() != producerId
                        ? Set.of() : txns.getFirst().partitions();
                Map<TopicPartition, Short> errors = new LinkedHashMap<>();
                for (TopicPartition tp : partitions) {
                    errors.put(tp, in.contains(tp) ? ErrorCode.NONE.code() : ErrorCode.INVALID_TXN_STATE.code());
                }
                return results(topics, errors, ErrorCode.NONE.code());
            });
        }
        return broker.storage().addPartitionsToTxn(transactionalId, producer, partitions).handle((errors, failure) ->
                failure != null ? results(topics, Map.of(), Futures.errorCode(failure)) : results(topics, errors, ErrorCode.NONE.code()));
    }

    static Handler addPartitionsToTxn(BrokerState broker) {
        return (context, message) -> {
            AddPartitionsToTxnRequest request = (AddPartitionsToTxnRequest) message;
            if (context.version() <= 3) {
                return add(broker, context, request.v3AndBelowTransactionalId(), request.v3AndBelowProducerId(),
                        request.v3AndBelowProducerEpoch(), false, request.v3AndBelowTopics()).thenApply(r -> {
                            AddPartitionsToTxnResponse response = new AddPartitionsToTxnResponse();
                            response.resultsByTopicV3AndBelow().addAll(r);
                            return response;
                        });
            }
            List<CompletionStage<AddPartitionsToTxnResponse.AddPartitionsToTxnResult>> all = new ArrayList<>();
            for (AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction t : request.transactions()) {
                all.add(add(broker, context, t.transactionalId(), t.producerId(), t.producerEpoch(), t.verifyOnly(), t.topics())
                        .thenApply(r -> {
                            AddPartitionsToTxnResponse.AddPartitionsToTxnResult result = new AddPartitionsToTxnResponse.AddPartitionsToTxnResult()
                                    .setTransactionalId(t.transactionalId());
                            result.topicResults().addAll(r);
                            return result;
                        }));
            }
            return Futures.all(all).thenApply(list -> {
                AddPartitionsToTxnResponse response = new AddPartitionsToTxnResponse();
                response.resultsByTransaction().addAll(list);
                return response;
            });
        };
    }

    static Handler addOffsetsToTxn(BrokerState broker) {
        return (context, message) -> {
            AddOffsetsToTxnRequest request = (AddOffsetsToTxnRequest) message;
            return broker.storage().addOffsetsToTxn(request.transactionalId(),
                    new ProducerIdAndEpoch(request.producerId(), request.producerEpoch()), request.groupId())
                    .handle((v, failure) -> new AddOffsetsToTxnResponse().setErrorCode(Futures.errorCode(failure)));
        };
    }

    /**
     * As OffsetCommit: offsets of partitions that do not exist get UNKNOWN_TOPIC_OR_PARTITION, of topics the principal
     * may not READ TOPIC_AUTHORIZATION_FAILED, and are not kept.
     */
    static Handler txnOffsetCommit(BrokerState broker, GroupCoordinator coordinator) {
        return (context, message) -> {
            TxnOffsetCommitRequest request = (TxnOffsetCommitRequest) message;
            List<TopicRef> refs = new ArrayList<>();
            for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t : request.topics()) refs.add(TopicRef.of(t.name()));
            return KnownTopics.readable(broker, context, refs).thenCompose(known -> {
                List<OffsetCommit> commits = new ArrayList<>();
                for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t : request.topics()) {
                    for (TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition p : t.partitions()) {
                        if (known.error(TopicRef.of(t.name()), p.partitionIndex()) != ErrorCode.NONE.code()) continue;
                        commits.add(new OffsetCommit(new TopicPartition(t.name(), p.partitionIndex()), p.committedOffset(),
                                p.committedLeaderEpoch(), p.committedMetadata(), -1L));
                    }
                }
                CompletionStage<Map<TopicPartition, Short>> stored = commits.isEmpty()
                        ? CompletableFuture.completedFuture(Map.of())
                        : coordinator.txnCommitOffsets(request.transactionalId(),
                                new ProducerIdAndEpoch(request.producerId(), request.producerEpoch()), request.groupId(),
                                request.memberId(), request.groupInstanceId(), request.generationId(), commits);
                return stored.thenApply(errors -> {
                    TxnOffsetCommitResponse response = new TxnOffsetCommitResponse();
                    for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t : request.topics()) {
                        TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic rt = new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic()
                                .setName(t.name());
                        for (TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition p : t.partitions()) {
                            short error = known.error(TopicRef.of(t.name()), p.partitionIndex());
                            if (error == ErrorCode.NONE.code()) {
                                error = errors.getOrDefault(new TopicPartition(t.name(), p.partitionIndex()), ErrorCode.NONE.code());
                            }
                            rt.partitions().add(new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition()
                                    .setPartitionIndex(p.partitionIndex()).setErrorCode(error));
                        }
                        response.topics().add(rt);
                    }
                    return response;
                });
            });
        };
    }

    static Handler endTxn(BrokerState broker) {
        return (context, message) -> {
            EndTxnRequest request = (EndTxnRequest) message;
            return broker.storage().endTxn(request.transactionalId(),
                    new ProducerIdAndEpoch(request.producerId(), request.producerEpoch()), request.committed(),
                    context.version() >= 5).handle((next, failure) -> failure != null
                            ? new EndTxnResponse().setErrorCode(Futures.errorCode(failure))
                            : new EndTxnResponse().setProducerId(next.producerId()).setProducerEpoch(next.epoch()));
        };
    }

    static Handler describeTransactions(BrokerState broker) {
        return (context, message) -> {
            DescribeTransactionsRequest request = (DescribeTransactionsRequest) message;
            return broker.storage().describeTransactions(request.transactionalIds()).handle((txns, failure) -> {
                DescribeTransactionsResponse response = new DescribeTransactionsResponse();
                Map<String, TransactionDescription> byId = new LinkedHashMap<>();
                if (txns != null) for (TransactionDescription t : txns) byId.put(t.transactionalId(), t);
                for (String id : request.transactionalIds()) {
                    TransactionDescription t = byId.get(id);
                    DescribeTransactionsResponse.TransactionState s = new DescribeTransactionsResponse.TransactionState()
                            .setTransactionalId(id);
                    if (!broker.allowed(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id)) {
                        s.setErrorCode(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code());
                    } else if (failure != null) {
                        s.setErrorCode(Futures.errorCode(failure));
                    } else if (t == null) {
                        s.setErrorCode(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND.code());
                    } else {
                        s.setTransactionState(t.state().kafkaName()).setTransactionTimeoutMs(t.timeoutMs())
                                .setTransactionStartTimeMs(t.startTimeMs()).setProducerId(t.producerId())
                                .setProducerEpoch(t.producerEpoch());
                        Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
                        t.partitions().stream().sorted((a, b) -> a.topic().equals(b.topic())
                                ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()))
                                .forEach(tp -> byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition()));
                        byTopic.forEach((topic, ps) -> s.topics().add(new DescribeTransactionsResponse.TopicData()
                                .setTopic(topic).setPartitions(ps.stream().mapToInt(Integer::intValue).toArray())));
                    }
                    response.transactionStates().add(s);
                }
                return response;
            });
        };
    }

    static Handler listTransactions(BrokerState broker) {
        return (context, message) -> {
            ListTransactionsRequest request = (ListTransactionsRequest) message;
            Set<String> known = new HashSet<>();
            for (TransactionState s : TransactionState.values()) known.add(s.kafkaName());
            ListTransactionsResponse response = new ListTransactionsResponse();
            Set<String> states = new HashSet<>();
            for (String s : request.stateFilters()) {
                if (known.contains(s)) states.add(s);
                else response.unknownStateFilters().add(s);
            }
            Set<Long> producers = new HashSet<>();
            for (long id : request.producerIdFilters()) producers.add(id);
            long duration = context.version() >= 1 ? request.durationFilter() : -1L;
            Pattern pattern;
            try {
                String regex = context.version() >= 2 ? request.transactionalIdPattern() : null;
                pattern = regex == null || regex.isEmpty() ? null : Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                return GroupHandlers.done(response.setErrorCode(ErrorCode.INVALID_REQUEST.code()));
            }
            long now = System.currentTimeMillis();
            return broker.storage().describeTransactions(null).handle((txns, failure) -> {
                if (failure != null) return response.setErrorCode(Futures.errorCode(failure));
                for (TransactionDescription t : txns) {
                    if (!states.isEmpty() && !states.contains(t.state().kafkaName())) continue;
                    if (!request.stateFilters().isEmpty() && states.isEmpty()) continue;
                    if (!producers.isEmpty() && !producers.contains(t.producerId())) continue;
                    if (duration >= 0 && (t.startTimeMs() < 0 || now - t.startTimeMs() < duration)) continue;
                    if (pattern != null && !pattern.matcher(t.transactionalId()).matches()) continue;
                    if (!broker.allowed(context, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId())) continue;
                    response.transactionStates().add(new ListTransactionsResponse.TransactionState()
                            .setTransactionalId(t.transactionalId()).setProducerId(t.producerId())
                            .setTransactionState(t.state().kafkaName()));
                }
                return response;
            });
        };
    }

    static Handler describeProducers(BrokerState broker) {
        return (context, message) -> {
            DescribeProducersRequest request = (DescribeProducersRequest) message;
            List<CompletionStage<DescribeProducersResponse.TopicResponse>> topics = new ArrayList<>();
            for (DescribeProducersRequest.TopicRequest t : request.topics()) {
                List<CompletionStage<DescribeProducersResponse.PartitionResponse>> parts = new ArrayList<>();
                for (int p : t.partitionIndexes()) {
                    if (!broker.allowedTopic(context, AclOperation.READ, t.name())) {
                        parts.add(CompletableFuture.completedFuture(new DescribeProducersResponse.PartitionResponse()
                                .setPartitionIndex(p).setErrorCode(ErrorCode.TOPIC_AUTHORIZATION_FAILED.code())));
                        continue;
                    }
                    parts.add(broker.storage().describeProducers(new TopicPartition(t.name(), p)).handle((list, failure) -> {
                        DescribeProducersResponse.PartitionResponse r = new DescribeProducersResponse.PartitionResponse()
                                .setPartitionIndex(p);
                        if (failure != null) {
                            return r.setErrorCode(Futures.errorCode(failure)).setErrorMessage(Futures.message(failure));
                        }
                        for (ActiveProducer a : list) {
                            r.activeProducers().add(new DescribeProducersResponse.ProducerState()
                                    .setProducerId(a.producerId()).setProducerEpoch(a.producerEpoch())
                                    .setLastSequence(a.lastSequence()).setLastTimestamp(a.lastTimestamp())
                                    .setCoordinatorEpoch(a.coordinatorEpoch()).setCurrentTxnStartOffset(a.currentTxnStartOffset()));
                        }
                        return r;
                    }));
                }
                topics.add(Futures.all(parts).thenApply(list -> {
                    DescribeProducersResponse.TopicResponse tr = new DescribeProducersResponse.TopicResponse().setName(t.name());
                    tr.partitions().addAll(list);
                    return tr;
                }));
            }
            return Futures.all(topics).thenApply(list -> {
                DescribeProducersResponse response = new DescribeProducersResponse();
                response.topics().addAll(list);
                return response;
            });
        };
    }
}
