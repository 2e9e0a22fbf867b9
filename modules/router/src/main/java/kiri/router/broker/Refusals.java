package kiri.router.broker;

import java.util.List;
import kiri.protocol.message.OffsetCommitRequest;
import kiri.protocol.message.OffsetCommitResponse;
import kiri.protocol.message.OffsetFetchRequest;
import kiri.protocol.message.OffsetFetchResponse;
import kiri.protocol.message.TxnOffsetCommitRequest;
import kiri.protocol.message.TxnOffsetCommitResponse;

/**
 * Answers that refuse a whole request whose response carries its error per partition (an ACL refusal, a broker that
 * is not the coordinator): every partition asked about gets {@code error}. Stateless.
 */
final class Refusals {
    private Refusals() {
    }

    static OffsetCommitResponse offsetCommit(OffsetCommitRequest r, short error) {
        OffsetCommitResponse response = new OffsetCommitResponse();
        for (var t : r.topics()) {
            var topic = new OffsetCommitResponse.OffsetCommitResponseTopic().setName(t.name()).setTopicId(t.topicId());
            for (var p : t.partitions()) {
                topic.partitions().add(new OffsetCommitResponse.OffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(error));
            }
            response.topics().add(topic);
        }
        return response;
    }

    static TxnOffsetCommitResponse txnOffsetCommit(TxnOffsetCommitRequest r, short error) {
        TxnOffsetCommitResponse response = new TxnOffsetCommitResponse();
        for (var t : r.topics()) {
            var topic = new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic().setName(t.name());
            for (var p : t.partitions()) {
                topic.partitions().add(new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(error));
            }
            response.topics().add(topic);
        }
        return response;
    }

    /** OffsetFetch v0-7 (one group): the group error, and on each partition (v0-1 carry errors per partition only). */
    static OffsetFetchResponse offsetFetch(OffsetFetchRequest r, short error) {
        OffsetFetchResponse response = new OffsetFetchResponse().setErrorCode(error);
        for (var t : r.topics() == null ? List.<OffsetFetchRequest.OffsetFetchRequestTopic>of() : r.topics()) {
            var topic = new OffsetFetchResponse.OffsetFetchResponseTopic().setName(t.name());
            for (int p : t.partitionIndexes()) {
                topic.partitions().add(new OffsetFetchResponse.OffsetFetchResponsePartition().setPartitionIndex(p)
                        .setCommittedOffset(-1).setErrorCode(error));
            }
            response.topics().add(topic);
        }
        return response;
    }
}
