package kiri.router.broker;

import java.util.List;
import java.util.concurrent.CompletionStage;
import kiri.storage.api.BrokerInfo;

import kiri.router.BrokerConfig;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.Storage;

/** What every broker handler shares: storage, this broker's identity and the topic cache. */
record BrokerState(Storage storage, BrokerConfig config, TopicCache topics) {
    BrokerState(Storage storage, BrokerConfig config) {
        this(storage, config, new TopicCache(storage));
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
