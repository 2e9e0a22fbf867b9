package kiri.router.broker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;
import kiri.coordinator.GroupCoordinator;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.OffsetCommitRequest;
import kiri.protocol.message.OffsetCommitResponse;
import kiri.protocol.message.OffsetDeleteRequest;
import kiri.protocol.message.OffsetDeleteResponse;
import kiri.protocol.message.OffsetFetchRequest;
import kiri.protocol.message.OffsetFetchResponse;
import kiri.router.Handler;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TopicRef;

/**
 * OffsetCommit (v2-v10; v10 names topics by id), OffsetFetch (v1-v7 one group, v8+ batched groups,
 * v10 topic ids) and OffsetDelete, through the {@link GroupCoordinator}'s member and generation checks.
 */
final class OffsetHandlers {
    private static final UUID ZERO = new UUID(0L, 0L);

    private OffsetHandlers() {
    }

    private static TopicRef ref(boolean byId, String name, UUID id) {
        return byId ? TopicRef.of(id) : TopicRef.of(name);
    }

    /**
     * Commits the offsets of partitions that exist; a topic or partition that does not gets
     * UNKNOWN_TOPIC_OR_PARTITION (UNKNOWN_TOPIC_ID for an unknown id) and is not committed, as in Kafka; a topic
     * the principal may not READ gets TOPIC_AUTHORIZATION_FAILED (READ on the group is the AuthorizationLayer's).
     */
    static Handler offsetCommit(BrokerState broker, GroupCoordinator coordinator) {
        return (context, message) -> {
            OffsetCommitRequest request = (OffsetCommitRequest) message;
            short version = context.version();
            boolean byId = version >= 10;
            List<TopicRef> refs = new ArrayList<>();
            for (OffsetCommitRequest.OffsetCommitRequestTopic t : request.topics()) refs.add(ref(byId, t.name(), t.topicId()));
            return KnownTopics.readable(broker, context, refs).thenCompose(known -> {
                List<OffsetCommit> commits = new ArrayList<>();
                for (OffsetCommitRequest.OffsetCommitRequestTopic t : request.topics()) {
                    TopicRef ref = ref(byId, t.name(), t.topicId());
                    for (OffsetCommitRequest.OffsetCommitRequestPartition p : t.partitions()) {
                        if (known.error(ref, p.partitionIndex()) != ErrorCode.NONE.code()) continue;
                        commits.add(new OffsetCommit(new TopicPartition(known.name(ref), p.partitionIndex()),
                                p.committedOffset(), p.committedLeaderEpoch(), p.committedMetadata(), -1L));
                    }
                }
                long retention = version <= 4 ? request.retentionTimeMs() : -1L;
                CompletionStage<Map<TopicPartition, Short>> stored = commits.isEmpty() ? GroupHandlers.done(Map.of())
                        : coordinator.commitOffsets(request.groupId(), request.memberId(), request.groupInstanceId(),
                                request.generationIdOrMemberEpoch(), commits, version, retention);
                return stored.thenApply(errors -> {
                    OffsetCommitResponse response = new OffsetCommitResponse();
                    for (OffsetCommitRequest.OffsetCommitRequestTopic t : request.topics()) {
                        TopicRef ref = ref(byId, t.name(), t.topicId());
                        OffsetCommitResponse.OffsetCommitResponseTopic rt = new OffsetCommitResponse.OffsetCommitResponseTopic()
                                .setName(byId ? "" : t.name()).setTopicId(t.topicId());
                        for (OffsetCommitRequest.OffsetCommitRequestPartition p : t.partitions()) {
                            short error = known.error(ref, p.partitionIndex());
                            if (error == ErrorCode.NONE.code()) {
                                error = errors.getOrDefault(new TopicPartition(known.name(ref), p.partitionIndex()),
                                        ErrorCode.NONE.code());
                            }
                            rt.partitions().add(new OffsetCommitResponse.OffsetCommitResponsePartition()
                                    .setPartitionIndex(p.partitionIndex()).setErrorCode(error));
                        }
                        response.topics().add(rt);
                    }
                    return response;
                });
            });
        };
    }

    /** One group's part of an OffsetFetch, version-neutral. */
    private record Wanted(String topic, UUID topicId, int[] partitions) {
    }

    private record Fetched(short groupError, List<Wanted> topics, Map<TopicPartition, CommittedOffset> offsets,
                           Map<TopicPartition, Short> errors) {
    }

    static Handler offsetFetch(BrokerState broker, GroupCoordinator coordinator) {
        return (context, message) -> {
            OffsetFetchRequest request = (OffsetFetchRequest) message;
            short version = context.version();
            if (version < 8) {
                List<Wanted> wanted = null;
                if (request.topics() != null) {
                    wanted = new ArrayList<>();
                    for (OffsetFetchRequest.OffsetFetchRequestTopic t : request.topics()) {
                        wanted.add(new Wanted(t.name(), ZERO, t.partitionIndexes()));
                    }
                }
                return fetch(broker, context, coordinator, request.groupId(), wanted, request.requireStable(), false)
                        .thenApply(f -> {
                    OffsetFetchResponse response = new OffsetFetchResponse().setErrorCode(f.groupError());
                    for (Wanted w : f.topics()) {
                        OffsetFetchResponse.OffsetFetchResponseTopic rt = new OffsetFetchResponse.OffsetFetchResponseTopic()
                                .setName(w.topic());
                        for (int p : w.partitions()) {
                            TopicPartition tp = new TopicPartition(w.topic(), p);
                            CommittedOffset c = f.offsets().get(tp);
                            rt.partitions().add(new OffsetFetchResponse.OffsetFetchResponsePartition().setPartitionIndex(p)
                                    .setCommittedOffset(c == null ? -1L : c.offset())
                                    .setCommittedLeaderEpoch(c == null ? -1 : c.leaderEpoch())
                                    .setMetadata(c == null || c.metadata() == null ? "" : c.metadata())
                                    .setErrorCode(f.errors().getOrDefault(tp, ErrorCode.NONE.code())));
                        }
                        response.topics().add(rt);
                    }
                    return response;
                });
            }
            boolean byId = version >= 10;
            List<CompletionStage<OffsetFetchResponse.OffsetFetchResponseGroup>> groups = new ArrayList<>();
            for (OffsetFetchRequest.OffsetFetchRequestGroup g : request.groups()) {
                CompletionStage<List<Wanted>> wantedStage;
                if (g.topics() == null) {
                    wantedStage = GroupHandlers.done(null);
                } else if (byId) {
                    List<TopicRef> refs = new ArrayList<>();
                    for (OffsetFetchRequest.OffsetFetchRequestTopics t : g.topics()) refs.add(TopicRef.of(t.topicId()));
                    wantedStage = KnownTopics.lookUp(broker, refs).thenApply(known -> {
                        List<Wanted> out = new ArrayList<>();
                        for (OffsetFetchRequest.OffsetFetchRequestTopics t : g.topics()) {
                            out.add(new Wanted(known.name(TopicRef.of(t.topicId())), t.topicId(), t.partitionIndexes()));
                        }
                        return out;
                    });
                } else {
                    List<Wanted> out = new ArrayList<>();
                    for (OffsetFetchRequest.OffsetFetchRequestTopics t : g.topics()) {
                        out.add(new Wanted(t.name(), ZERO, t.partitionIndexes()));
                    }
                    wantedStage = GroupHandlers.done(out);
                }
                groups.add(wantedStage
                        .thenCompose(wanted -> (version >= 9
                                ? coordinator.validateOffsetFetch(g.groupId(), g.memberId(), g.memberEpoch())
                                : GroupHandlers.done(ErrorCode.NONE.code()))
                                .thenCompose(error -> error != ErrorCode.NONE.code()
                                        // a consumer group member with a stale epoch, or not a member (KIP-848)
                                        ? GroupHandlers.done(new Fetched(error, List.of(), Map.of(), Map.of()))
                                        : fetch(broker, context, coordinator, g.groupId(), wanted, request.requireStable(),
                                                byId)))
                        .thenApply(f -> {
                            OffsetFetchResponse.OffsetFetchResponseGroup rg = new OffsetFetchResponse.OffsetFetchResponseGroup()
                                    .setGroupId(g.groupId()).setErrorCode(f.groupError());
                            for (Wanted w : f.topics()) {
                                OffsetFetchResponse.OffsetFetchResponseTopics rt = new OffsetFetchResponse.OffsetFetchResponseTopics()
                                        .setName(w.topic() == null ? "" : w.topic()).setTopicId(w.topicId());
                                for (int p : w.partitions()) {
                                    TopicPartition tp = w.topic() == null ? null : new TopicPartition(w.topic(), p);
                                    CommittedOffset c = tp == null ? null : f.offsets().get(tp);
                                    short error = tp == null ? ErrorCode.UNKNOWN_TOPIC_ID.code() : f.errors().getOrDefault(tp, ErrorCode.NONE.code());
                                    rt.partitions().add(new OffsetFetchResponse.OffsetFetchResponsePartitions()
                                            .setPartitionIndex(p)
                                            .setCommittedOffset(c == null ? -1L : c.offset())
                                            .setCommittedLeaderEpoch(c == null ? -1 : c.leaderEpoch())
                                            .setMetadata(c == null || c.metadata() == null ? "" : c.metadata())
                                            .setErrorCode(error));
                                }
                                rg.topics().add(rt);
                            }
                            return rg;
                        }));
            }
            return Futures.all(groups).thenApply(list -> {
                OffsetFetchResponse response = new OffsetFetchResponse();
                response.groups().addAll(list);
                return response;
            });
        };
    }

    /**
     * Fetches one group's offsets as the principal may see them (Kafka's DESCRIBE on each topic): a named topic it
     * may not describe is not looked up and answers TOPIC_AUTHORIZATION_FAILED on each partition, after the others;
     * {@code wanted} null means every committed partition of a topic it may describe (the answer then lists what is
     * stored). With topic ids, stored topics are answered with their ids, and an unknown id stays UNKNOWN_TOPIC_ID.
     */
    private static CompletionStage<Fetched> fetch(BrokerState broker, RequestContext context, GroupCoordinator coordinator,
                                                  String groupId, List<Wanted> wanted, boolean requireStable, boolean byId) {
        Predicate<String> describable = broker.authorizer().enabled()
                ? topic -> broker.allowedTopic(context, AclOperation.DESCRIBE, topic) : topic -> true;
        if (wanted == null) {
            return fetch(broker, coordinator, groupId, null, requireStable, byId, describable);
        }
        List<Wanted> allowed = new ArrayList<>();
        List<Wanted> denied = new ArrayList<>();
        for (Wanted w : wanted) (w.topic() == null || describable.test(w.topic()) ? allowed : denied).add(w);
        CompletionStage<Fetched> fetched = fetch(broker, coordinator, groupId, allowed, requireStable, byId, describable);
        return denied.isEmpty() ? fetched : fetched.thenApply(f -> {
            if (f.groupError() != ErrorCode.NONE.code()) return f; // as Kafka: a group's error answers the group alone
            List<Wanted> topics = new ArrayList<>(f.topics());
            topics.addAll(denied);
            Map<TopicPartition, Short> errors = new LinkedHashMap<>(f.errors());
            for (Wanted w : denied) {
                for (int p : w.partitions()) {
                    errors.put(new TopicPartition(w.topic(), p), ErrorCode.TOPIC_AUTHORIZATION_FAILED.code());
                }
            }
            return new Fetched(f.groupError(), topics, f.offsets(), errors);
        });
    }

    private static CompletionStage<Fetched> fetch(BrokerState broker, GroupCoordinator coordinator, String groupId,
                                                  List<Wanted> wanted, boolean requireStable, boolean byId,
                                                  Predicate<String> describable) {
        List<TopicPartition> partitions = null;
        if (wanted != null) {
            partitions = new ArrayList<>();
            for (Wanted w : wanted) {
                if (w.topic() == null) continue;
                for (int p : w.partitions()) partitions.add(new TopicPartition(w.topic(), p));
            }
        }
        List<TopicPartition> asked = partitions;
        return coordinator.fetchOffsets(groupId, partitions, requireStable).thenCompose(offsets -> {
            if (wanted != null) return GroupHandlers.done(new Fetched(ErrorCode.NONE.code(), wanted, offsets, Map.of()));
            // every stored partition, grouped by topic
            Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
            offsets.keySet().stream().filter(tp -> describable.test(tp.topic()))
                    .sorted((a, b) -> a.topic().equals(b.topic())
                            ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic()))
                    .forEach(tp -> byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition()));
            List<CompletionStage<TopicInfo>> infos = new ArrayList<>();
            for (String t : byTopic.keySet()) {
                infos.add(byId ? broker.topics().get(TopicRef.of(t)) : GroupHandlers.done(null));
            }
            return Futures.all(infos).thenApply(topics -> {
                List<Wanted> out = new ArrayList<>();
                int i = 0;
                for (var e : byTopic.entrySet()) {
                    TopicInfo info = topics.get(i++);
                    if (byId && info == null) continue; // no id to answer with: the topic is gone
                    out.add(new Wanted(e.getKey(), info == null ? ZERO : info.id(),
                            e.getValue().stream().mapToInt(Integer::intValue).toArray()));
                }
                return new Fetched(ErrorCode.NONE.code(), out, offsets, Map.of());
            });
        }).exceptionally(failure -> {
            short code = Futures.errorCode(failure);
            if (code == ErrorCode.UNSTABLE_OFFSET_COMMIT.code() && asked != null) {
                Map<TopicPartition, Short> errors = new LinkedHashMap<>();
                for (TopicPartition tp : asked) errors.put(tp, code);
                return new Fetched(ErrorCode.NONE.code(), wanted, Map.of(), errors);
            }
            return new Fetched(code, wanted == null ? List.of() : wanted, Map.of(), Map.of());
        });
    }

    /**
     * Deletes the committed offsets of partitions that exist and whose topic the principal may READ; the
     * others get TOPIC_AUTHORIZATION_FAILED or UNKNOWN_TOPIC_OR_PARTITION and are not deleted, as in Kafka.
     */
    static Handler offsetDelete(BrokerState broker, GroupCoordinator coordinator) {
        return (context, message) -> {
            OffsetDeleteRequest request = (OffsetDeleteRequest) message;
            List<TopicRef> refs = new ArrayList<>();
            for (OffsetDeleteRequest.OffsetDeleteRequestTopic t : request.topics()) refs.add(TopicRef.of(t.name()));
            return KnownTopics.readable(broker, context, refs).thenCompose(known -> {
                List<TopicPartition> partitions = new ArrayList<>();
                for (OffsetDeleteRequest.OffsetDeleteRequestTopic t : request.topics()) {
                    for (OffsetDeleteRequest.OffsetDeleteRequestPartition p : t.partitions()) {
                        if (known.error(TopicRef.of(t.name()), p.partitionIndex()) != ErrorCode.NONE.code()) continue;
                        partitions.add(new TopicPartition(t.name(), p.partitionIndex()));
                    }
                }
                return coordinator.deleteOffsets(request.groupId(), partitions).thenApply(r -> {
                    OffsetDeleteResponse response = new OffsetDeleteResponse().setErrorCode(r.error());
                    if (r.error() != ErrorCode.NONE.code()) return response;
                    for (OffsetDeleteRequest.OffsetDeleteRequestTopic t : request.topics()) {
                        OffsetDeleteResponse.OffsetDeleteResponseTopic rt = new OffsetDeleteResponse.OffsetDeleteResponseTopic()
                                .setName(t.name());
                        for (OffsetDeleteRequest.OffsetDeleteRequestPartition p : t.partitions()) {
                            short error = known.error(TopicRef.of(t.name()), p.partitionIndex());
                            if (error == ErrorCode.NONE.code()) {
                                error = r.partitions().getOrDefault(new TopicPartition(t.name(), p.partitionIndex()), ErrorCode.NONE.code());
                            }
                            rt.partitions().add(new OffsetDeleteResponse.OffsetDeleteResponsePartition()
                                    .setPartitionIndex(p.partitionIndex()).setErrorCode(error));
                        }
                        response.topics().add(rt);
                    }
                    return response;
                });
            });
        };
    }
}
