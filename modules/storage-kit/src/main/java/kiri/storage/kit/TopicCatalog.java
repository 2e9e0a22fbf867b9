package kiri.storage.kit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.ConfigOp;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.NewTopic;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicRef;
import kiri.storage.api.Topics;

/**
 * A single node's topic catalogue with Kafka's rules, shared by engines: the registered brokers (what
 * a replication factor is checked against), topics by name and by id, name collisions ('.' vs '_'),
 * and the {@link TopicInfo} that CreateTopics, CreatePartitions and AlterConfigs produce. The engine keeps its own topic type {@code T} (the info plus its partitions),
 * creates the partitions and persists what it must; this class only checks and indexes.
 *
 * <p>Threads: reads ({@link #get}, {@link #lookup}, {@link #all}, {@link #list}, {@link #describe}) are
 * lock-free; the engine serializes the checks and changes (an admin lock, a metadata thread) so that a
 * check and the change it allows are atomic.
 *
 * @param <T> the engine's topic type
 */
public final class TopicCatalog<T> {
    private final int nodeId;
    private final ConcurrentHashMap<Integer, BrokerInfo> brokers = new ConcurrentHashMap<>();
    private final Function<T, TopicInfo> info;
    private final ConcurrentHashMap<String, T> byName = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<UUID, T> byId = new ConcurrentHashMap<>();
    /** {@link Topics#collisionKey} -> topic name; guarded by the engine's serialization of changes. */
    private final Map<String, String> collisionKeys = new HashMap<>();

    /**
     * @param nodeId the node that leads every partition
     * @param self   this node, the first registered broker
     * @param info   a topic's info
     */
    public TopicCatalog(int nodeId, BrokerInfo self, Function<T, TopicInfo> info) {
        this.nodeId = nodeId;
        this.info = info;
        brokers.put(nodeId, self);
    }

    /** Registers (or replaces) a broker. */
    public void registerBroker(BrokerInfo broker) {
        brokers.put(broker.nodeId(), broker);
    }

    /** The registered brokers, by node id. */
    public List<BrokerInfo> brokers() {
        List<BrokerInfo> list = new ArrayList<>(brokers.values());
        list.sort(Comparator.comparingInt(BrokerInfo::nodeId));
        return list;
    }

    /** The topic, or null. */
    public T get(String name) {
        return byName.get(name);
    }

    /** The topic by name or id, or null. */
    public T lookup(TopicRef ref) {
        return switch (ref) {
            case TopicRef.Name(String name) -> byName.get(name);
            case TopicRef.Id(UUID id) -> byId.get(id);
        };
    }

    /** Every topic (a weakly consistent view). */
    public Collection<T> all() {
        return byName.values();
    }

    /** Every topic's info, by name. */
    public List<TopicInfo> list() {
        TreeMap<String, TopicInfo> sorted = new TreeMap<>();
        for (T t : byName.values()) {
            TopicInfo i = info.apply(t);
            sorted.put(i.name(), i);
        }
        return new ArrayList<>(sorted.values());
    }

    /** The info of each topic of {@code refs} that exists, in order. */
    public List<TopicInfo> describe(Collection<? extends TopicRef> refs) {
        List<TopicInfo> out = new ArrayList<>(refs.size());
        for (TopicRef ref : refs) {
            T t = lookup(ref);
            if (t != null) out.add(info.apply(t));
        }
        return out;
    }

    // ---- checks: the TopicInfo a change would produce ----------------------------------------------

    /**
     * CreateTopics: checks the request against the catalogue and Kafka's rules and returns the new
     * topic's info with a fresh id; nothing changes until {@link #add}.
     *
     * @throws kiri.storage.api.StorageException INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, ...
     */
    public TopicInfo newTopic(NewTopic request) {
        Topics.validateName(request.name());
        if (byName.containsKey(request.name())) throw Topics.alreadyExists(request.name());
        String clash = collisionKeys.get(Topics.collisionKey(request.name()));
        if (clash != null) throw Topics.collision(request.name(), clash);
        NewTopic topic = Topics.validate(request, brokers.size());
        return new TopicInfo(topic.name(), KafkaUuid.random(), partitionInfos(0, topic.partitions(), List.of()),
                topic.replicationFactor(), topic.configs());
    }

    /** The existing topic. @throws kiri.storage.api.StorageException UNKNOWN_TOPIC_OR_PARTITION */
    public T existing(String name) {
        T t = byName.get(name);
        if (t == null) throw Topics.unknown(TopicRef.of(name));
        return t;
    }

    /** CreatePartitions: {@code current}'s info grown to {@code totalCount} partitions. @throws kiri.storage.api.StorageException INVALID_PARTITIONS */
    public TopicInfo withPartitions(T current, int totalCount) {
        TopicInfo old = info.apply(current);
        Topics.validatePartitionIncrease(old.name(), old.partitionCount(), totalCount);
        return new TopicInfo(old.name(), old.id(), partitionInfos(old.partitionCount(), totalCount, old.partitions()),
                old.replicationFactor(), old.configs());
    }

    /** AlterConfigs: {@code current}'s info with {@code ops} applied. @throws kiri.storage.api.StorageException INVALID_CONFIG */
    public TopicInfo withConfigs(T current, List<ConfigOp> ops) {
        TopicInfo old = info.apply(current);
        Map<String, String> configs = TopicConfigs.apply(old.configs(), ops);
        return new TopicInfo(old.name(), old.id(), old.partitions(), old.replicationFactor(), configs);
    }

    /** The partition infos of a topic with partitions {@code from..to-1} added to {@code existing}, all led by this node. */
    public List<PartitionInfo> partitionInfos(int from, int to, List<PartitionInfo> existing) {
        List<PartitionInfo> out = new ArrayList<>(to);
        out.addAll(existing);
        for (int i = from; i < to; i++) out.add(PartitionInfo.singleNode(i, nodeId));
        return out;
    }

    // ---- changes ------------------------------------------------------------------------------------

    /** Adds a new topic (created, or loaded on open). */
    public void add(T topic) {
        publish(topic);
        String name = info.apply(topic).name();
        collisionKeys.put(Topics.collisionKey(name), name);
    }

    /** Replaces a topic with a new snapshot of it (more partitions, new configs). */
    public void publish(T topic) {
        TopicInfo i = info.apply(topic);
        byName.put(i.name(), topic);
        byId.put(i.id(), topic);
    }

    /** Removes the topic {@code ref} names and returns it. @throws kiri.storage.api.StorageException UNKNOWN_TOPIC_OR_PARTITION */
    public T remove(TopicRef ref) {
        T t = lookup(ref);
        if (t == null) throw Topics.unknown(ref);
        remove(t);
        return t;
    }

    /** Removes {@code topic}. */
    public void remove(T topic) {
        TopicInfo i = info.apply(topic);
        byName.remove(i.name());
        byId.remove(i.id());
        collisionKeys.remove(Topics.collisionKey(i.name()));
    }
}
