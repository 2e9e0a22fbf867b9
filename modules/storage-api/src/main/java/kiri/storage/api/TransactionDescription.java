package kiri.storage.api;

import java.util.Objects;
import java.util.Set;

/** DescribeTransactions / ListTransactions view of one transactional id. {@code startTimeMs} is -1 when no transaction is open. */
public record TransactionDescription(String transactionalId, long producerId, short producerEpoch, int timeoutMs,
                                     TransactionState state, long startTimeMs, Set<TopicPartition> partitions) {
    public TransactionDescription {
        Objects.requireNonNull(transactionalId, "transactionalId");
        Objects.requireNonNull(state, "state");
        partitions = Set.copyOf(partitions);
    }
}
