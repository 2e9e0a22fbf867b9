package kiri.client;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.CreateTopicsRequest;
import kiri.protocol.message.CreateTopicsResponse;
import kiri.protocol.message.DeleteTopicsRequest;
import kiri.protocol.message.DeleteTopicsResponse;
import kiri.protocol.message.DescribeConfigsRequest;
import kiri.protocol.message.DescribeConfigsResponse;
import kiri.protocol.message.IncrementalAlterConfigsRequest;
import kiri.protocol.message.IncrementalAlterConfigsResponse;

/**
 * Topic administration: create, list, describe, delete, topic configs, and partition offsets. Requests go to any
 * broker (KRaft brokers forward controller work themselves). Blocking; thread-safe.
 */
public final class Admin {
    /** A topic config entry as the broker describes it. */
    public record ConfigEntry(String name, String value, boolean readOnly, boolean isDefault, boolean sensitive) {
    }

    private static final byte TOPIC_RESOURCE = 2;
    private final Cluster cluster;

    public Admin(Cluster cluster) {
        this.cluster = cluster;
    }

    /**
     * Creates a topic; {@code replicationFactor} -1 means the broker's default.
     *
     * @throws ClientException with {@link kiri.protocol.ErrorCode#TOPIC_ALREADY_EXISTS} etc.
     */
    public void createTopic(String name, int partitions, short replicationFactor, Map<String, String> configs)
            throws IOException {
        List<CreateTopicsRequest.CreatableTopicConfig> cfg = new ArrayList<>();
        configs.forEach((k, v) -> cfg.add(new CreateTopicsRequest.CreatableTopicConfig().setName(k).setValue(v)));
        CreateTopicsRequest request = new CreateTopicsRequest().setTimeoutMs((int) cluster.timeout().toMillis())
                .setTopics(new ArrayList<>(List.of(new CreateTopicsRequest.CreatableTopic().setName(name)
                        .setNumPartitions(partitions).setReplicationFactor(replicationFactor).setConfigs(cfg))));
        CreateTopicsResponse response = (CreateTopicsResponse) call(ApiKey.CREATE_TOPICS, request);
        for (CreateTopicsResponse.CreatableTopicResult r : response.topics()) {
            ClientException.check(r.errorCode(), r.errorMessage(), "create topic " + r.name());
        }
    }

    /** Names of every topic, sorted; internal topics only when asked. */
    public List<String> listTopics(boolean includeInternal) throws IOException {
        List<String> names = new ArrayList<>();
        for (Cluster.TopicInfo t : cluster.metadata(null, false).topics().values()) {
            if (includeInternal || !t.internal()) {
                names.add(t.name());
            }
        }
        return names;
    }

    /** Describes topics; fails with the broker's error for a topic that doesn't exist. */
    public Map<String, Cluster.TopicInfo> describeTopics(List<String> names) throws IOException {
        Map<String, Cluster.TopicInfo> found = cluster.metadata(names, false).topics();
        Map<String, Cluster.TopicInfo> out = new LinkedHashMap<>();
        for (String name : names) {
            Cluster.TopicInfo t = found.get(name);
            if (t == null) {
                throw ClientException.of(kiri.protocol.ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code(), null, "topic " + name);
            }
            ClientException.check(t.error(), null, "topic " + name);
            out.put(name, t);
        }
        return out;
    }

    /** A topic's configs (all of them, defaults included), in the broker's order. */
    public List<ConfigEntry> describeTopicConfigs(String topic) throws IOException {
        DescribeConfigsRequest request = new DescribeConfigsRequest().setResources(new ArrayList<>(List.of(
                new DescribeConfigsRequest.DescribeConfigsResource().setResourceType(TOPIC_RESOURCE)
                        .setResourceName(topic).setConfigurationKeys(null))));
        DescribeConfigsResponse response = (DescribeConfigsResponse) call(ApiKey.DESCRIBE_CONFIGS, request);
        List<ConfigEntry> out = new ArrayList<>();
        for (DescribeConfigsResponse.DescribeConfigsResult r : response.results()) {
            ClientException.check(r.errorCode(), r.errorMessage(), "describe configs of topic " + r.resourceName());
            for (DescribeConfigsResponse.DescribeConfigsResourceResult c : r.configs()) {
                // config source 5 = DEFAULT_CONFIG; 1 = DYNAMIC_TOPIC_CONFIG
                out.add(new ConfigEntry(c.name(), c.value(), c.readOnly(), c.configSource() == 5, c.isSensitive()));
            }
        }
        return out;
    }

    /** Sets (value non-null) or deletes (value null) topic configs with IncrementalAlterConfigs. */
    public void alterTopicConfigs(String topic, Map<String, String> changes) throws IOException {
        List<IncrementalAlterConfigsRequest.AlterableConfig> configs = new ArrayList<>();
        changes.forEach((k, v) -> configs.add(new IncrementalAlterConfigsRequest.AlterableConfig().setName(k)
                .setConfigOperation((byte) (v == null ? 1 : 0)).setValue(v)));
        IncrementalAlterConfigsRequest request = new IncrementalAlterConfigsRequest().setResources(new ArrayList<>(List.of(
                new IncrementalAlterConfigsRequest.AlterConfigsResource().setResourceType(TOPIC_RESOURCE)
                        .setResourceName(topic).setConfigs(configs))));
        IncrementalAlterConfigsResponse response = (IncrementalAlterConfigsResponse) call(ApiKey.INCREMENTAL_ALTER_CONFIGS,
                request);
        for (IncrementalAlterConfigsResponse.AlterConfigsResourceResponse r : response.responses()) {
            ClientException.check(r.errorCode(), r.errorMessage(), "alter configs of topic " + r.resourceName());
        }
    }

    /** Deletes topics by name; fails on the first error the broker reports. */
    public void deleteTopics(List<String> names) throws IOException {
        DeleteTopicsRequest request = new DeleteTopicsRequest().setTimeoutMs((int) cluster.timeout().toMillis());
        if (cluster.bootstrapConnection().version(ApiKey.DELETE_TOPICS) >= 6) {
            List<DeleteTopicsRequest.DeleteTopicState> topics = new ArrayList<>();
            for (String n : names) {
                topics.add(new DeleteTopicsRequest.DeleteTopicState().setName(n));
            }
            request.setTopics(topics);
        } else {
            request.setTopicNames(new ArrayList<>(names));
        }
        DeleteTopicsResponse response = (DeleteTopicsResponse) call(ApiKey.DELETE_TOPICS, request);
        for (DeleteTopicsResponse.DeletableTopicResult r : response.responses()) {
            ClientException.check(r.errorCode(), r.errorMessage(), "delete topic " + r.name());
        }
    }

    /** Every partition of {@code topic}, in order; fails with the broker's error if it doesn't exist. */
    public List<TopicPartition> partitions(String topic) throws IOException {
        List<TopicPartition> out = new ArrayList<>();
        for (Cluster.PartitionInfo p : cluster.topic(topic, false).partitions()) {
            out.add(new TopicPartition(topic, p.partition()));
        }
        return out;
    }

    /**
     * Offsets of {@code partitions} for {@code timestamp}: {@link Consumer#EARLIEST} (log start), {@link Consumer#LATEST}
     * (log end), or ms since the epoch (the first offset with a timestamp at or after it; -1 when there is none).
     */
    public Map<TopicPartition, Long> listOffsets(Collection<TopicPartition> partitions, long timestamp) throws IOException {
        Map<TopicPartition, Integer> leaders = new HashMap<>();
        Map<String, Cluster.TopicInfo> topics = new HashMap<>();
        for (TopicPartition tp : new TreeSet<>(partitions)) {
            Cluster.TopicInfo t = topics.get(tp.topic());
            if (t == null) {
                t = cluster.topic(tp.topic(), false);
                topics.put(tp.topic(), t);
            }
            leaders.put(tp, t.partitions().stream().filter(p -> p.partition() == tp.partition()).findFirst()
                    .orElseThrow(() -> new ClientException("partition " + tp + " does not exist")).leader());
        }
        return new TreeMap<>(OffsetLookup.list(cluster, leaders, timestamp));
    }

    private kiri.protocol.ApiMessage call(ApiKey api, kiri.protocol.ApiMessage request) throws IOException {
        return NodeConnection.await(cluster.bootstrapConnection().send(api, request), cluster.timeout());
    }
}
