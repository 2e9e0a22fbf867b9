package kiri.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.MetadataRequest;
import kiri.protocol.message.MetadataResponse;
import kiri.transport.BufferPool;

/**
 * The client's view of a cluster: the bootstrap connection, one {@link NodeConnection} per broker
 * (opened on first use), and metadata. Shared by {@link Admin}, {@link Producer} and
 * {@link Consumer}; thread-safe. Closing it closes every connection and its buffer pool.
 */
public final class Cluster implements AutoCloseable {
    /** A broker from metadata. */
    public record Node(int id, String host, int port, String rack) {
    }

    /** One partition's leader from metadata ({@code leader} is -1 when there is none). */
    public record PartitionInfo(int partition, int leader, int leaderEpoch, int[] replicas, int[] isr, short error) {
    }

    /** One topic from metadata; {@code error} is 0 when the topic exists. */
    public record TopicInfo(String name, UUID id, boolean internal, List<PartitionInfo> partitions, short error) {
    }

    /** A metadata answer. */
    public record Metadata(String clusterId, int controllerId, Map<Integer, Node> brokers, Map<String, TopicInfo> topics) {
    }

    private final List<InetSocketAddress> bootstrap;
    private final BufferPool pool = new BufferPool();
    private final String clientId;
    private final Duration timeout;
    private final Map<Integer, NodeConnection> nodes = new ConcurrentHashMap<>();
    private final Map<Integer, Node> brokers = new ConcurrentHashMap<>();
    private volatile NodeConnection any;

    private Cluster(List<InetSocketAddress> bootstrap, String clientId, Duration timeout) {
        this.bootstrap = bootstrap;
        this.clientId = clientId;
        this.timeout = timeout;
    }

    /**
     * Connects to the first reachable address of {@code bootstrap} ("host:port[,host:port...]")
     * and negotiates API versions with it.
     *
     * @throws IllegalArgumentException if the list is malformed
     * @throws IOException if no address is reachable (the message names the last failure)
     */
    public static Cluster connect(String bootstrap, String clientId, Duration timeout) throws IOException {
        Cluster c = new Cluster(parse(bootstrap), clientId, timeout);
        c.bootstrapConnection();
        return c;
    }

    public static Cluster connect(String bootstrap) throws IOException {
        return connect(bootstrap, "kiri", Duration.ofSeconds(30));
    }

    static List<InetSocketAddress> parse(String bootstrap) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String part : bootstrap.split(",")) {
            String p = part.strip();
            int colon = p.lastIndexOf(':');
            if (p.isEmpty() || colon <= 0 || colon == p.length() - 1) {
                throw new IllegalArgumentException("bootstrap address '" + p + "' must look like HOST:PORT");
            }
            String host = p.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(p.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bootstrap address '" + p + "' has a bad port");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("bootstrap address '" + p + "' has a port outside 1-65535");
            }
            out.add(new InetSocketAddress(host, port));
        }
        return List.copyOf(out);
    }

    public Duration timeout() {
        return timeout;
    }

    public BufferPool pool() {
        return pool;
    }

    /** Some open connection: the bootstrap one, re-established if it closed. */
    public synchronized NodeConnection bootstrapConnection() throws IOException {
        NodeConnection c = any;
        if (c != null && c.isOpen()) {
            return c;
        }
        IOException last = null;
        for (InetSocketAddress address : bootstrap) {
            try {
                any = NodeConnection.open(-1, address, pool, clientId, timeout);
                return any;
            } catch (IOException e) {
                last = e;
            }
        }
        throw last != null ? last : new IOException("no bootstrap address");
    }

    /** The connection to broker {@code nodeId}, opened (and version-negotiated) on first use. */
    public NodeConnection node(int nodeId) throws IOException {
        NodeConnection c = nodes.get(nodeId);
        if (c != null && c.isOpen()) {
            return c;
        }
        synchronized (this) {
            c = nodes.get(nodeId);
            if (c != null && c.isOpen()) {
                return c;
            }
            Node n = brokers.get(nodeId);
            if (n == null) {
                metadata(List.of(), false);
                n = brokers.get(nodeId);
                if (n == null) {
                    throw new ClientException("broker " + nodeId + " is not in the cluster metadata");
                }
            }
            c = NodeConnection.open(nodeId, new InetSocketAddress(n.host(), n.port()), pool, clientId, timeout);
            nodes.put(nodeId, c);
            return c;
        }
    }

    /**
     * Metadata for {@code topics} (null: every topic), asking the broker to create missing ones
     * when {@code allowAutoCreate}. Also refreshes the broker list used by {@link #node}.
     */
    public Metadata metadata(Collection<String> topics, boolean allowAutoCreate) throws IOException {
        MetadataRequest request = new MetadataRequest().setAllowAutoTopicCreation(allowAutoCreate);
        if (topics == null) {
            request.setTopics(null);
        } else {
            List<MetadataRequest.MetadataRequestTopic> list = new ArrayList<>();
            for (String t : topics) {
                list.add(new MetadataRequest.MetadataRequestTopic().setName(t));
            }
            request.setTopics(list);
        }
        NodeConnection c = bootstrapConnection();
        if (topics == null && c.version(ApiKey.METADATA) == 0) {
            request.setTopics(new ArrayList<>()); // v0 means "all" with an empty list
        }
        MetadataResponse response = (MetadataResponse) NodeConnection.await(c.send(ApiKey.METADATA, request), timeout);
        if (c.version(ApiKey.METADATA) >= 13) {
            ClientException.check(response.errorCode(), null, "Metadata");
        }
        Map<Integer, Node> nodesById = new HashMap<>();
        for (MetadataResponse.MetadataResponseBroker b : response.brokers()) {
            Node n = new Node(b.nodeId(), b.host(), b.port(), b.rack());
            nodesById.put(n.id(), n);
            brokers.put(n.id(), n);
        }
        Map<String, TopicInfo> byName = new java.util.TreeMap<>();
        for (MetadataResponse.MetadataResponseTopic t : response.topics()) {
            List<PartitionInfo> parts = new ArrayList<>();
            for (MetadataResponse.MetadataResponsePartition p : t.partitions()) {
                parts.add(new PartitionInfo(p.partitionIndex(), p.leaderId(), p.leaderEpoch(), p.replicaNodes(),
                        p.isrNodes(), p.errorCode()));
            }
            parts.sort(java.util.Comparator.comparingInt(PartitionInfo::partition));
            byName.put(t.name(), new TopicInfo(t.name(), t.topicId(), t.isInternal(), List.copyOf(parts), t.errorCode()));
        }
        return new Metadata(response.clusterId(), response.controllerId(), Map.copyOf(nodesById),
                java.util.Collections.unmodifiableMap(byName));
    }

    /** Metadata for one topic, failing with the broker's error if it doesn't exist (or has no partitions yet). */
    public TopicInfo topic(String topic, boolean allowAutoCreate) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            TopicInfo t = metadata(List.of(topic), allowAutoCreate).topics().get(topic);
            short error = t == null ? kiri.protocol.ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code() : t.error();
            boolean retriable = error == kiri.protocol.ErrorCode.LEADER_NOT_AVAILABLE.code()
                    || (error == 0 && t.partitions().isEmpty())
                    || (allowAutoCreate && error == kiri.protocol.ErrorCode.UNKNOWN_TOPIC_OR_PARTITION.code());
            if (error == 0 && !t.partitions().isEmpty()) {
                return t;
            }
            if (!retriable || System.nanoTime() > deadline) {
                throw ClientException.of(error, null, "topic " + topic);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClientException("interrupted", e);
            }
        }
    }

    @Override
    public void close() {
        for (NodeConnection c : nodes.values()) {
            c.close();
        }
        nodes.clear();
        NodeConnection c = any;
        if (c != null) {
            c.close();
        }
        pool.close();
    }
}
