package kiri.router.broker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicRef;

/**
 * The topics a request names, looked up once, and the error Kafka answers for a partition of one
 * that does not exist: UNKNOWN_TOPIC_ID for an unknown topic id, UNKNOWN_TOPIC_OR_PARTITION for an
 * unknown name or a partition past the topic's count. Offset commits check this before they reach
 * the coordinator, as Kafka's do (librdkafka's test 0030 expects it). Immutable once built.
 */
final class KnownTopics {
    private final Map<TopicRef, TopicInfo> found;

    private KnownTopics(Map<TopicRef, TopicInfo> found) {
        this.found = found;
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
            return new KnownTopics(found);
        });
    }

    /** The topic's name, or null if it does not exist. */
    String name(TopicRef ref) {
        TopicInfo topic = found.get(ref);
        return topic == null ? null : topic.name();
    }

    /** NONE if the partition exists, else the error Kafka answers for it. */
    short error(TopicRef ref, int partition) {
        TopicInfo topic = found.get(ref);
        if (topic == null) {
            return ref.unknownErrorCode();
        }
        return partition >= 0 && partition < topic.partitionCount() ? ErrorCodes.NONE
                : ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;
    }
}
