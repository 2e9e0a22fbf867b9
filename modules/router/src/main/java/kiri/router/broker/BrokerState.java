package kiri.router.broker;

import java.util.List;
import java.util.concurrent.CompletionStage;
import kiri.storage.api.BrokerInfo;

import kiri.router.BrokerConfig;
import kiri.router.TopicMetrics;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.Storage;

/** What every broker handler shares: storage, this broker's identity, the topic cache and the per-topic counters. */
record BrokerState(Storage storage, BrokerConfig config, TopicCache topics, TopicMetrics metrics) {
    BrokerState(Storage storage, BrokerConfig config, TopicMetrics metrics) {
        this(storage, config, new TopicCache(storage), metrics);
    }

    /** The live brokers as storage reports them; this broker alone if storage knows none (it lost its lease). */
    CompletionStage<List<BrokerInfo>> liveBrokers() {
        return storage.brokers().thenApply(live -> live.isEmpty()
                ? List.of(new BrokerInfo(config.nodeId(), config.advertisedHost(), config.advertisedPort(), null)) : live);
    }

    static int[] replicas(PartitionInfo p) {
        return p.replicas().stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] isr(PartitionInfo p) {
        return p.isr().stream().mapToInt(Integer::intValue).toArray();
    }
}
