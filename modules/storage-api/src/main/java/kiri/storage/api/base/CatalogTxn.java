package kiri.storage.api.base;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import kiri.storage.api.OffsetCommit;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.TopicPartition;
import kiri.storage.api.TransactionDescription;
import kiri.storage.api.TransactionState;

/** A transactional id's producer and open transaction. Guarded by its own monitor. */
final class CatalogTxn {
    final String id;
    ProducerIdAndEpoch producer = ProducerIdAndEpoch.NONE;
    ProducerIdAndEpoch previous = ProducerIdAndEpoch.NONE;
    int timeoutMs;
    TransactionState state = TransactionState.EMPTY;
    long startMs = -1L;
    final Set<TopicPartition> partitions = new LinkedHashSet<>();
    /** TxnOffsetCommit offsets by group, applied on commit, dropped on abort. */
    final Map<String, Map<TopicPartition, OffsetCommit>> pendingOffsets = new HashMap<>();

    CatalogTxn(String id) {
        this.id = id;
    }

    void begin(long nowMs) {
        if (state != TransactionState.ONGOING) {
            state = TransactionState.ONGOING;
            startMs = nowMs;
            partitions.clear();
            pendingOffsets.clear();
        }
    }

    TransactionDescription describe() {
        return new TransactionDescription(id, producer.producerId(), producer.epoch(), timeoutMs, state,
                state == TransactionState.ONGOING ? startMs : -1L, partitions);
    }
}
