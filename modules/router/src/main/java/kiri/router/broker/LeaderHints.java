package kiri.router.broker;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.ProduceResponse;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.TopicInfo;

/**
 * Produce and Fetch for a partition that another broker leads (engines shared by several brokers place
 * leadership, {@link kiri.storage.api.Storage#placement}): NOT_LEADER_OR_FOLLOWER with KIP-951's hints, the
 * partition's CurrentLeader and the response's NodeEndpoints for those leaders, so clients move without a
 * Metadata round trip (Produce v10+, Fetch v12+; older versions carry only the error). Stateless.
 */
final class LeaderHints {
    static final short NOT_LEADER = ErrorCode.NOT_LEADER_OR_FOLLOWER.code();

    private LeaderHints() {
    }

    /** The partition's placement if another node leads it (or none does), else null: this broker serves it. */
    static PartitionInfo elsewhere(BrokerState broker, TopicInfo topic, int partition) {
        PartitionInfo placed = broker.storage().placement(topic, topic.partitions().get(partition));
        return placed.leaderId() == broker.config().nodeId() ? null : placed;
    }

    static ProduceResponse.PartitionProduceResponse produce(int partition, PartitionInfo placed) {
        return new ProduceResponse.PartitionProduceResponse().setIndex(partition).setErrorCode(NOT_LEADER).setBaseOffset(-1L)
                .setErrorMessage("This broker does not lead this partition; broker " + placed.leaderId() + " does")
                .setCurrentLeader(new ProduceResponse.LeaderIdAndEpoch().setLeaderId(placed.leaderId())
                        .setLeaderEpoch(placed.leaderEpoch()));
    }

    static FetchResponse.PartitionData fetch(FetchResponse.PartitionData data, PartitionInfo placed) {
        return data.setErrorCode(NOT_LEADER).setCurrentLeader(new FetchResponse.LeaderIdAndEpoch()
                .setLeaderId(placed.leaderId()).setLeaderEpoch(placed.leaderEpoch()));
    }

    /** Whether any partition of the response carries a hint (then the endpoints are worth looking up). */
    static boolean any(ProduceResponse response) {
        return !leaders(response).isEmpty();
    }

    static void addEndpoints(ProduceResponse response, List<BrokerInfo> live) {
        Set<Integer> leaders = leaders(response);
        for (BrokerInfo b : live) {
            if (leaders.contains(b.nodeId())) {
                response.nodeEndpoints().add(new ProduceResponse.NodeEndpoint().setNodeId(b.nodeId()).setHost(b.host())
                        .setPort(b.port()).setRack(b.rack()));
            }
        }
    }

    static Set<Integer> leaders(FetchResponse response) {
        Set<Integer> out = new LinkedHashSet<>();
        for (FetchResponse.FetchableTopicResponse t : response.responses()) {
            for (FetchResponse.PartitionData p : t.partitions()) {
                if (p.errorCode() == NOT_LEADER && p.currentLeader() != null && p.currentLeader().leaderId() >= 0) {
                    out.add(p.currentLeader().leaderId());
                }
            }
        }
        return out;
    }

    static void addEndpoints(FetchResponse response, Set<Integer> leaders, List<BrokerInfo> live) {
        for (BrokerInfo b : live) {
            if (leaders.contains(b.nodeId())) {
                response.nodeEndpoints().add(new FetchResponse.NodeEndpoint().setNodeId(b.nodeId()).setHost(b.host())
                        .setPort(b.port()).setRack(b.rack()));
            }
        }
    }

    private static Set<Integer> leaders(ProduceResponse response) {
        Set<Integer> out = new LinkedHashSet<>();
        for (ProduceResponse.TopicProduceResponse t : response.responses()) {
            for (ProduceResponse.PartitionProduceResponse p : t.partitionResponses()) {
                if (p.errorCode() == NOT_LEADER && p.currentLeader() != null && p.currentLeader().leaderId() >= 0) {
                    out.add(p.currentLeader().leaderId());
                }
            }
        }
        return out;
    }
}
