package kiri.router.broker;

import kiri.router.BrokerConfig;
import kiri.router.TopicMetrics;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.Storage;

/** What every broker handler shares: storage, this broker's identity, the topic cache and the per-topic counters. */
record BrokerState(Storage storage, BrokerConfig config, TopicCache topics, TopicMetrics metrics) {
    BrokerState(Storage storage, BrokerConfig config, TopicMetrics metrics) {
        this(storage, config, new TopicCache(storage), metrics);
    }

    static int[] replicas(PartitionInfo p) {
        return p.replicas().stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] isr(PartitionInfo p) {
        return p.isr().stream().mapToInt(Integer::intValue).toArray();
    }
}
