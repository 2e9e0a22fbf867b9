package kiri.launcher;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kiri.metrics.MetricSource;
import kiri.metrics.MetricWriter;
import kiri.storage.api.CommittedOffset;
import kiri.storage.api.GroupListing;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.Storage;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;

/**
 * One scrape of a broker: the request and topic counters the router keeps, the transport's connections and
 * buffer pool, and what storage answers now (topics, partition offsets and sizes, groups' committed offsets and
 * lag), then the engine's own metrics and the JVM's. Storage is asked at scrape time, never on the request path;
 * a storage that does not answer within {@link #STORAGE_TIMEOUT_MS} leaves its families out and sets
 * {@code kiri_storage_scrape_success} to 0. Called on the metrics endpoint's one thread.
 */
final class BrokerMetrics {
    static final long STORAGE_TIMEOUT_MS = 5_000;

    private BrokerMetrics() {
    }

    static void writeTo(MetricWriter w, Broker broker) {
        broker.metrics().writeTo(w);
        w.gauge("kiri_connections_active", "Open client connections.", broker.connectionCount());
        var pool = broker.bufferPool();
        w.family("kiri_buffer_pool_bytes", "gauge",
                        "Off-heap buffer pool: bytes allocated and kept for reuse, and bytes handed out now.")
                .sample("kiri_buffer_pool_bytes", pool.pooledBytes(), "state", "pooled")
                .sample("kiri_buffer_pool_bytes", pool.outstandingBytes(), "state", "in_use");
        boolean ok;
        try {
            writeStorage(w, broker);
            ok = true;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        w.gauge("kiri_storage_scrape_success", "1 if storage answered this scrape's questions in time, else 0.", ok ? 1 : 0);
        if (broker.storage() instanceof MetricSource source) {
            source.writeMetrics(w);
        }
        JvmMetrics.writeTo(w);
    }

    /** Asks storage everything first, then writes: a failure leaves no family half written. */
    private static void writeStorage(MetricWriter w, Broker broker)
            throws ExecutionException, TimeoutException, InterruptedException {
        Storage storage = broker.storage();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STORAGE_TIMEOUT_MS);
        List<TopicInfo> topics = await(storage.listTopics().toCompletableFuture(), deadline);
        Map<TopicPartition, Long> sizes = await(storage.partitionSizes().toCompletableFuture(), deadline);
        Map<TopicPartition, CompletableFuture<PartitionOffsets>> asked = new TreeMap<>(BrokerMetrics::compare);
        Set<String> names = new HashSet<>();
        for (TopicInfo t : topics) {
            names.add(t.name());
            for (int p = 0; p < t.partitionCount(); p++) {
                TopicPartition tp = new TopicPartition(t.name(), p);
                asked.put(tp, storage.offsets(tp).toCompletableFuture());
            }
        }
        List<GroupListing> groups = await(storage.listGroups().toCompletableFuture(), deadline);
        Map<String, CompletableFuture<Map<TopicPartition, CommittedOffset>>> committed = new TreeMap<>();
        for (GroupListing g : groups) {
            committed.put(g.groupId(), storage.fetchOffsets(g.groupId(), null, false).toCompletableFuture());
        }
        Map<TopicPartition, PartitionOffsets> offsets = new TreeMap<>(BrokerMetrics::compare);
        for (var e : asked.entrySet()) {
            offsets.put(e.getKey(), await(e.getValue(), deadline));
        }
        Map<String, Map<TopicPartition, CommittedOffset>> byGroup = new TreeMap<>();
        for (var e : committed.entrySet()) {
            byGroup.put(e.getKey(), await(e.getValue(), deadline));
        }

        broker.metrics().topics().writeTo(w, names);
        w.family("kiri_topic_partitions", "gauge", "Partitions of the topic.");
        for (TopicInfo t : topics) w.sample("kiri_topic_partitions", t.partitionCount(), "topic", t.name());
        Map<String, Long> topicBytes = new TreeMap<>();
        sizes.forEach((tp, bytes) -> topicBytes.merge(tp.topic(), bytes, Long::sum));
        w.family("kiri_topic_log_size_bytes", "gauge", "Bytes the topic's partitions keep in storage.");
        topicBytes.forEach((t, bytes) -> {
            if (names.contains(t)) w.sample("kiri_topic_log_size_bytes", bytes, "topic", t);
        });
        w.family("kiri_partition_log_start_offset", "gauge", "The partition's first offset still kept.");
        offsets.forEach((tp, o) -> w.sample("kiri_partition_log_start_offset", o.logStartOffset(), partitionLabels(tp)));
        w.family("kiri_partition_log_end_offset", "gauge", "The partition's high watermark: the offset the next record gets.");
        offsets.forEach((tp, o) -> w.sample("kiri_partition_log_end_offset", o.highWatermark(), partitionLabels(tp)));
        List<GroupPartition> groupRows = new ArrayList<>();
        byGroup.forEach((group, map) -> {
            Map<TopicPartition, CommittedOffset> sorted = new TreeMap<>(BrokerMetrics::compare);
            sorted.putAll(map);
            sorted.forEach((tp, c) -> {
                PartitionOffsets o = offsets.get(tp);
                long lag = o == null ? 0 : Math.max(0, o.highWatermark() - c.offset());
                groupRows.add(new GroupPartition(new String[] {"group", group, "topic", tp.topic(), "partition",
                        Integer.toString(tp.partition())}, c.offset(), lag));
            });
        });
        w.family("kiri_consumer_group_committed_offset", "gauge", "The group's committed offset in the partition.");
        for (GroupPartition g : groupRows) w.sample("kiri_consumer_group_committed_offset", g.committed(), g.labels());
        w.family("kiri_consumer_group_lag", "gauge", "Records between the group's committed offset and the partition's end.");
        for (GroupPartition g : groupRows) w.sample("kiri_consumer_group_lag", g.lag(), g.labels());
    }

    /** One group's position in one partition. */
    private record GroupPartition(String[] labels, long committed, long lag) {
    }

    private static String[] partitionLabels(TopicPartition tp) {
        return new String[] {"topic", tp.topic(), "partition", Integer.toString(tp.partition())};
    }

    private static int compare(TopicPartition a, TopicPartition b) {
        int c = a.topic().compareTo(b.topic());
        return c != 0 ? c : Integer.compare(a.partition(), b.partition());
    }

    private static <T> T await(CompletableFuture<T> future, long deadlineNanos)
            throws ExecutionException, TimeoutException, InterruptedException {
        return future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
