package kiri.router.broker;

import kiri.router.BrokerConfig;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.Storage;

/** What every broker handler shares: storage, this broker's identity and the topic cache. */
record BrokerState(Storage storage, BrokerConfig config, TopicCache topics) {
    BrokerState(Storage storage, BrokerConfig config) {
        this(storage, config, new TopicCache(storage));
    }

    static int[] replicas(PartitionInfo p) {
        return p.replicas().stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] isr(PartitionInfo p) {
        return p.isr().stream().mapToInt(Integer::intValue).toArray();
    }
}
