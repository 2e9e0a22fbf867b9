package kiri.storage.api;

/**
 * DescribeProducers view of a producer writing to a partition. {@code lastSequence},
 * {@code lastTimestamp}, {@code coordinatorEpoch} and {@code currentTxnStartOffset} are -1 when unknown/none.
 */
public record ActiveProducer(long producerId, short producerEpoch, int lastSequence, long lastTimestamp,
                             int coordinatorEpoch, long currentTxnStartOffset) {
}
