package kiri.router.broker;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import kiri.compress.BatchCompression;
import kiri.compress.Codecs;
import kiri.protocol.ErrorCode;
import kiri.protocol.ProtocolException;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordsValidator;
import kiri.protocol.record.RecordsVerdict;
import kiri.storage.api.TopicConfigs;
import kiri.storage.api.TopicInfo;

/**
 * The record-level checks of a produced batch ({@link RecordsValidator}) with the topic's configs
 * as policy. Uncompressed batches are walked in place; compressed ones are decompressed first (as
 * Kafka's broker does to validate them), into at most {@link #MAX_DECOMPRESSED_BYTES}, so a
 * decompression bomb is refused instead of exhausting the heap.
 *
 * <p>Each topic's policy is parsed from its configs once per {@link TopicInfo} instance (the topic
 * cache hands out the same instance until the topic changes), not per request. Thread-safe.
 */
final class ProducedRecords {
    /**
     * Cap on one batch's decompressed records, the same the storage engines use to read a compressed
     * batch. Kafka streams records out of the codec and has no such cap; a batch beyond it (a ratio
     * above ~128 for a 1 MiB batch) is refused with INVALID_RECORD.
     */
    static final int MAX_DECOMPRESSED_BYTES = BatchCompression.DEFAULT_MAX_RECORDS_BYTES;

    /** A topic's policy and the topic instance it was parsed from. */
    private record Parsed(TopicInfo topic, RecordsValidator.Policy policy) {
    }

    private final Map<String, Parsed> policies = new ConcurrentHashMap<>();

    /** What {@code topic}'s configs ask of records produced to {@code partition}; cached per topic instance. */
    RecordsValidator.Policy policy(TopicInfo topic, int partition) {
        Parsed parsed = policies.get(topic.name());
        if (parsed == null || parsed.topic() != topic) {
            parsed = new Parsed(topic, parse(topic, partition));
            policies.put(topic.name(), parsed);
        }
        return parsed.policy().withPartition(partition);
    }

    static RecordsValidator.Policy parse(TopicInfo topic, int partition) {
        Map<String, String> configs = topic.configs();
        // cleanup.policy lists only "compact" and "delete" (validated on create and alter)
        boolean compacted = TopicConfigs.value(configs, TopicConfigs.CLEANUP_POLICY).contains("compact");
        return new RecordsValidator.Policy(topic.name(), partition, compacted, TopicConfigs.isLogAppendTime(configs),
                TopicConfigs.longValue(configs, TopicConfigs.MESSAGE_TIMESTAMP_BEFORE_MAX_MS),
                TopicConfigs.longValue(configs, TopicConfigs.MESSAGE_TIMESTAMP_AFTER_MAX_MS));
    }

    /** Validates the records of {@code batch}, whose header {@link RecordBatch#validateForProduce} accepted. */
    static RecordsVerdict validate(RecordBatch batch, RecordsValidator.Policy policy, long nowMs) {
        return validate(batch, policy, nowMs, MAX_DECOMPRESSED_BYTES);
    }

    /** {@link #validate(RecordBatch, RecordsValidator.Policy, long)} with a cap on the decompressed records. */
    static RecordsVerdict validate(RecordBatch batch, RecordsValidator.Policy policy, long nowMs, int maxDecompressedBytes) {
        if (!batch.isCompressed()) {
            return RecordsValidator.validate(batch, policy, nowMs);
        }
        Codecs.Bytes records;
        try {
            records = BatchCompression.decompressRecords(batch, maxDecompressedBytes);
        } catch (ProtocolException e) {
            return new RecordsVerdict(ErrorCode.INVALID_RECORD, e.getMessage() + " in topic partition "
                    + policy.partitionName(), List.of());
        }
        return RecordsValidator.validate(batch, MemorySegment.ofArray(records.array()), 0, records.length(), policy,
                nowMs);
    }
}
