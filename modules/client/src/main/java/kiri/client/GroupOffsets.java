package kiri.client;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.OffsetCommitRequest;
import kiri.protocol.message.OffsetCommitResponse;
import kiri.protocol.message.OffsetFetchRequest;
import kiri.protocol.message.OffsetFetchResponse;

/** OffsetFetch and OffsetCommit against a group's coordinator, in whichever request version it speaks. */
final class GroupOffsets {
    private GroupOffsets() {
    }

    /**
     * Committed offsets of {@code partitions} (null: every partition the group has an offset for); -1 where none.
     */
    static Map<TopicPartition, Long> fetch(NodeConnection node, String groupId, Collection<TopicPartition> partitions,
            Duration timeout) throws IOException {
        Map<String, int[]> byTopic = partitions == null ? null : byTopic(partitions);
        OffsetFetchRequest request = new OffsetFetchRequest();
        boolean grouped = node.version(ApiKey.OFFSET_FETCH) >= 8;
        if (grouped) {
            List<OffsetFetchRequest.OffsetFetchRequestTopics> ts = null;
            if (byTopic != null) {
                ts = new ArrayList<>();
                for (Map.Entry<String, int[]> e : byTopic.entrySet()) {
                    ts.add(new OffsetFetchRequest.OffsetFetchRequestTopics().setName(e.getKey()).setPartitionIndexes(e.getValue()));
                }
            }
            request.setGroups(new ArrayList<>(List.of(new OffsetFetchRequest.OffsetFetchRequestGroup().setGroupId(groupId)
                    .setMemberId(null).setMemberEpoch(-1).setTopics(ts))));
        } else {
            List<OffsetFetchRequest.OffsetFetchRequestTopic> ts = null;
            if (byTopic != null) {
                ts = new ArrayList<>();
                for (Map.Entry<String, int[]> e : byTopic.entrySet()) {
                    ts.add(new OffsetFetchRequest.OffsetFetchRequestTopic().setName(e.getKey()).setPartitionIndexes(e.getValue()));
                }
            }
            request.setGroupId(groupId).setTopics(ts);
        }
        OffsetFetchResponse response = (OffsetFetchResponse) NodeConnection.await(node.send(ApiKey.OFFSET_FETCH, request), timeout);
        Map<TopicPartition, Long> out = new TreeMap<>();
        if (grouped) {
            for (OffsetFetchResponse.OffsetFetchResponseGroup g : response.groups()) {
                ClientException.check(g.errorCode(), null, "fetch offsets of group " + groupId);
                for (OffsetFetchResponse.OffsetFetchResponseTopics t : g.topics()) {
                    for (OffsetFetchResponse.OffsetFetchResponsePartitions p : t.partitions()) {
                        ClientException.check(p.errorCode(), null, "fetch offset of " + t.name() + "-" + p.partitionIndex());
                        out.put(new TopicPartition(t.name(), p.partitionIndex()), p.committedOffset());
                    }
                }
            }
        } else {
            ClientException.check(response.errorCode(), null, "fetch offsets of group " + groupId);
            for (OffsetFetchResponse.OffsetFetchResponseTopic t : response.topics()) {
                for (OffsetFetchResponse.OffsetFetchResponsePartition p : t.partitions()) {
                    ClientException.check(p.errorCode(), null, "fetch offset of " + t.name() + "-" + p.partitionIndex());
                    out.put(new TopicPartition(t.name(), p.partitionIndex()), p.committedOffset());
                }
            }
        }
        return out;
    }

    /**
     * Commits {@code offsets} as member {@code memberId} of generation {@code generation}; an admin commit (to a
     * group without members) uses generation -1 and an empty member id, as Kafka's admin client does.
     */
    static void commit(NodeConnection node, String groupId, int generation, String memberId,
            Map<TopicPartition, Long> offsets, Duration timeout) throws IOException {
        if (offsets.isEmpty()) {
            return;
        }
        Map<String, List<OffsetCommitRequest.OffsetCommitRequestPartition>> byTopic = new TreeMap<>();
        offsets.forEach((tp, o) -> byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(
                new OffsetCommitRequest.OffsetCommitRequestPartition().setPartitionIndex(tp.partition())
                        .setCommittedOffset(o).setCommittedLeaderEpoch(-1).setCommittedMetadata("")));
        List<OffsetCommitRequest.OffsetCommitRequestTopic> ts = new ArrayList<>();
        byTopic.forEach((t, ps) -> ts.add(new OffsetCommitRequest.OffsetCommitRequestTopic().setName(t).setPartitions(ps)));
        OffsetCommitRequest request = new OffsetCommitRequest().setGroupId(groupId).setGenerationIdOrMemberEpoch(generation)
                .setMemberId(memberId).setGroupInstanceId(null).setRetentionTimeMs(-1).setTopics(ts);
        OffsetCommitResponse response = (OffsetCommitResponse) NodeConnection.await(node.send(ApiKey.OFFSET_COMMIT, request), timeout);
        for (OffsetCommitResponse.OffsetCommitResponseTopic t : response.topics()) {
            for (OffsetCommitResponse.OffsetCommitResponsePartition p : t.partitions()) {
                ClientException.check(p.errorCode(), null, "commit offset of " + t.name() + "-" + p.partitionIndex());
            }
        }
    }

    private static Map<String, int[]> byTopic(Collection<TopicPartition> partitions) {
        Map<String, List<Integer>> lists = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            lists.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        Map<String, int[]> out = new TreeMap<>();
        lists.forEach((t, ps) -> out.put(t, ps.stream().mapToInt(Integer::intValue).toArray()));
        return out;
    }
}
