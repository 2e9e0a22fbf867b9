package kiri.coordinator;

import java.util.Map;
import kiri.storage.api.TopicPartition;

/** OffsetDelete answer: a group-level error, else an error (or NONE) per partition. */
public record OffsetDeleteResult(short error, Map<TopicPartition, Short> partitions) {
}
