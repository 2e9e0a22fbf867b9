package kiri.client;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ListOffsetsRequest;
import kiri.protocol.message.ListOffsetsResponse;

/** ListOffsets, one request per partition leader. */
final class OffsetLookup {
    private OffsetLookup() {
    }

    /**
     * For each partition (mapped to its leader), the offset for {@code timestamp}: {@link Consumer#EARLIEST},
     * {@link Consumer#LATEST}, or the first offset whose timestamp is at least that many ms since the epoch
     * (-1 when no record is that recent).
     */
    static Map<TopicPartition, Long> list(Cluster cluster, Map<TopicPartition, Integer> leaders, long timestamp)
            throws IOException {
        Map<Integer, List<TopicPartition>> byLeader = new HashMap<>();
        leaders.forEach((tp, leader) -> byLeader.computeIfAbsent(leader, k -> new ArrayList<>()).add(tp));
        Map<TopicPartition, Long> out = new HashMap<>();
        for (Map.Entry<Integer, List<TopicPartition>> e : byLeader.entrySet()) {
            Map<String, ListOffsetsRequest.ListOffsetsTopic> topics = new LinkedHashMap<>();
            for (TopicPartition tp : e.getValue()) {
                topics.computeIfAbsent(tp.topic(), t -> new ListOffsetsRequest.ListOffsetsTopic().setName(t)).partitions()
                        .add(new ListOffsetsRequest.ListOffsetsPartition().setPartitionIndex(tp.partition())
                                .setCurrentLeaderEpoch(-1).setTimestamp(timestamp));
            }
            ListOffsetsRequest request = new ListOffsetsRequest().setReplicaId(-1)
                    .setTimeoutMs((int) cluster.timeout().toMillis()).setTopics(new ArrayList<>(topics.values()));
            ListOffsetsResponse response = (ListOffsetsResponse) NodeConnection.await(
                    cluster.node(e.getKey()).send(ApiKey.LIST_OFFSETS, request), cluster.timeout());
            for (ListOffsetsResponse.ListOffsetsTopicResponse t : response.topics()) {
                for (ListOffsetsResponse.ListOffsetsPartitionResponse p : t.partitions()) {
                    ClientException.check(p.errorCode(), null, "list offsets of " + t.name() + "-" + p.partitionIndex());
                    out.put(new TopicPartition(t.name(), p.partitionIndex()), p.offset());
                }
            }
        }
        return out;
    }
}
