package kiri.router.broker;

import java.util.List;
import java.util.concurrent.CompletionStage;
import kiri.storage.api.BrokerInfo;

import kiri.router.BrokerConfig;
import kiri.router.RequestContext;
import kiri.router.TopicMetrics;
import kiri.router.security.AclOperation;
import kiri.router.security.Authorizer;
import kiri.router.security.BrokerSecurity;
import kiri.router.security.ResourceType;
import kiri.router.security.SecurityStore;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.Storage;

/**
 * What every broker handler shares: storage, this broker's identity, the topic cache, the per-topic counters and
 * security.
 */
record BrokerState(Storage storage, BrokerConfig config, TopicCache topics, TopicMetrics metrics,
        BrokerSecurity securityState) {
    /** Without stored credentials or ACLs (handler tests). */
    BrokerState(Storage storage, BrokerConfig config, TopicMetrics metrics) {
        this(storage, config, metrics, new BrokerSecurity(SecurityStore.empty(storage), Authorizer.allowAll()));
    }

    BrokerState(Storage storage, BrokerConfig config, TopicMetrics metrics, BrokerSecurity security) {
        this(storage, config, new TopicCache(storage), metrics, security);
    }

    SecurityStore security() {
        return securityState.store();
    }

    Authorizer authorizer() {
        return securityState.authorizer();
    }

    /** Whether the request's principal may do {@code operation} on the resource. */
    boolean allowed(RequestContext context, AclOperation operation, ResourceType type, String name) {
        return securityState.authorizer().authorize(context.session(), operation, type, name);
    }

    /** ... on a topic. */
    boolean allowedTopic(RequestContext context, AclOperation operation, String topic) {
        return allowed(context, operation, ResourceType.TOPIC, topic);
    }

    /** ... on a group. */
    boolean allowedGroup(RequestContext context, AclOperation operation, String group) {
        return allowed(context, operation, ResourceType.GROUP, group);
    }

    /** ... on the cluster. */
    boolean allowedCluster(RequestContext context, AclOperation operation) {
        return securityState.authorizer().authorizeCluster(context.session(), operation);
    }

    /** The host clients of this request's listener are told to connect to. */
    String advertisedHost(RequestContext context) {
        var listener = context.session().listener();
        return listener != null ? listener.host() : config.advertisedHost();
    }

    /** ... and port. */
    int advertisedPort(RequestContext context) {
        var listener = context.session().listener();
        return listener != null ? listener.port() : config.advertisedPort();
    }

    /** The live brokers as storage reports them; this broker alone if storage knows none (it lost its lease). */
    CompletionStage<List<BrokerInfo>> liveBrokers() {
        return storage.brokers().thenApply(live -> live.isEmpty()
                ? List.of(new BrokerInfo(config.nodeId(), config.advertisedHost(), config.advertisedPort(), null)) : live);
    }

    /**
     * The live brokers as a client on {@code context}'s connection reaches them: this broker at the address of the
     * listener the client came in on (each listener advertises its own), the others as they registered.
     */
    CompletionStage<List<BrokerInfo>> liveBrokers(RequestContext context) {
        String host = advertisedHost(context);
        int port = advertisedPort(context);
        return liveBrokers().thenApply(live -> live.stream().map(b -> b.nodeId() == config.nodeId()
                ? new BrokerInfo(b.nodeId(), host, port, b.rack()) : b).toList());
    }

    static int[] replicas(PartitionInfo p) {
        return p.replicas().stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] isr(PartitionInfo p) {
        return p.isr().stream().mapToInt(Integer::intValue).toArray();
    }
}
