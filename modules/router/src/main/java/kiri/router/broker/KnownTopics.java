package kiri.router.broker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import kiri.protocol.ErrorCode;
import kiri.router.RequestContext;
import kiri.router.security.AclOperation;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicRef;

/**
 * The topics a request names, looked up once, and the error Kafka answers for a partition of one
 * that does not exist: UNKNOWN_TOPIC_ID for an unknown topic id, UNKNOWN_TOPIC_OR_PARTITION for an
 * unknown name or a partition past the topic's count. Offset commits check this before they reach
 * the coordinator, as Kafka's do (librdkafka's test 0030 expects it). {@link #authorized} adds Kafka's ACL
 * check, which comes before the existence check. Immutable once built.
 */
final class KnownTopics {
    private final Map<TopicRef, TopicInfo> found;
    /** The topics the principal may not act on: TOPIC_AUTHORIZATION_FAILED. */
    private final Set<TopicRef> refused;

    private KnownTopics(Map<TopicRef, TopicInfo> found, Set<TopicRef> refused) {
        this.found = found;
        this.refused = refused;
    }

    static CompletionStage<KnownTopics> lookUp(BrokerState broker, Collection<TopicRef> refs) {
        List<TopicRef> distinct = new ArrayList<>(new LinkedHashSet<>(refs));
        List<CompletionStage<TopicInfo>> lookups = new ArrayList<>(distinct.size());
        for (TopicRef ref : distinct) lookups.add(broker.topics().get(ref));
        return Futures.all(lookups).thenApply(infos -> {
            Map<TopicRef, TopicInfo> found = new HashMap<>();
            for (int i = 0; i < distinct.size(); i++) {
                if (infos.get(i) != null) found.put(distinct.get(i), infos.get(i));
            }
            return new KnownTopics(found, Set.of());
        });
    }

    /** The topics, each checked for READ as Kafka's offset commits and deletes check them. */
    static CompletionStage<KnownTopics> readable(BrokerState broker, RequestContext context, Collection<TopicRef> refs) {
        return lookUp(broker, refs).thenApply(known -> known.authorized(broker, context, AclOperation.READ, refs));
    }

    /**
     * These topics with Kafka's ACL check of {@code operation} on each: a topic named in the request, or named
     * by a known id, that the principal may not act on answers TOPIC_AUTHORIZATION_FAILED, whether or not it
     * exists (as Kafka's filterByAuthorized before its metadata lookup); an unknown id stays UNKNOWN_TOPIC_ID.
     */
    KnownTopics authorized(BrokerState broker, RequestContext context, AclOperation operation, Collection<TopicRef> refs) {
        if (!broker.authorizer().enabled()) {
            return this;
        }
        Set<TopicRef> denied = new HashSet<>();
        for (TopicRef ref : refs) {
            String name = ref instanceof TopicRef.Name(String n) ? n : name(ref);
            if (name != null && !broker.allowedTopic(context, operation, name)) {
                denied.add(ref);
            }
        }
        return denied.isEmpty() ? this : new KnownTopics(found, denied);
    }

    /** The topic's name, or null if it does not exist. */
    String name(TopicRef ref) {
        TopicInfo topic = found.get(ref);
        return topic == null ? null : topic.name();
    }

    /** NONE if the partition exists (and may be acted on), else the error Kafka answers for it. */
    short error(TopicRef ref, int partition) {
        if (refused.contains(ref)) {
            return ErrorCode.TOPIC_AUTHORIZATION_FAILED.code();
        }
        TopicInfo topic = found.get(ref);
        if (topic == null) {
            return ref.unknownError().code();
        }
        return partition >= 0 && partition < topic.partitionCount() ? ErrorCode.NONE.code()
                : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code();
    }
}
