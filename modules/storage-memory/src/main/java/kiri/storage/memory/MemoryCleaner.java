package kiri.storage.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiri.storage.api.ActiveProducer;
import kiri.storage.api.TopicConfigs;
import kiri.storage.compaction.BatchCleaner;
import kiri.storage.compaction.CompactionConfig;
import kiri.storage.compaction.OffsetMap;

/**
 * The memory engine's log cleaner for compacted topics: the same decisions as the {@code file:} engine's
 * ({@link BatchCleaner}) over a partition's stored batches, run by the broker's housekeeping thread (never an event
 * loop) from {@link MemoryStorage#maintainRecords}. The batches are read without the partition's lock (stored batches
 * are immutable) and swapped in under it. Memory has no files to roll: the active "segment" (never cleaned) is what
 * was stored since the last roll, which happens at a cleaning once it holds {@code segment.bytes} or is older than
 * {@code segment.ms}. Not thread-safe: one per engine, used by one thread at a time.
 */
final class MemoryCleaner {
    /** Kafka's log.cleaner.dedupe.buffer.size default (128 MiB) as key-map entries. */
    private final OffsetMap map = new OffsetMap((128 << 20) / 48);

    /** Cleans {@code p} if due; returns the bytes it freed (0 if it did nothing). */
    long cleanIfDue(MemoryPartition p, Map<String, String> topicConfigs, long nowMs) {
        CompactionConfig cc = CompactionConfig.of(topicConfigs);
        if (!cc.compact()) return 0;
        MemoryPartition.Cleanable c = p.cleanable(nowMs, TopicConfigs.intValue(topicConfigs, TopicConfigs.SEGMENT_BYTES),
                Math.min(TopicConfigs.longValue(topicConfigs, TopicConfigs.SEGMENT_MS), cc.maxCompactionLagMs()),
                cc.minCompactionLagMs());
        if (c.batches().isEmpty() || !cc.due(c.dirtyBytes(), c.totalBytes(), c.oldestDirtyTs(), nowMs)) return 0;
        map.clear();
        BatchCleaner cleaner = new BatchCleaner(cc, nowMs, map, c.aborted());
        int indexed = 0;
        while (indexed < c.batches().size() && cleaner.index(c.batches().get(indexed))) indexed++;
        if (indexed == 0) return 0;
        List<MemorySegment> old = c.batches().subList(0, indexed);
        Set<Long> active = new HashSet<>();
        for (ActiveProducer a : c.producers()) active.add(a.producerId());
        cleaner.beginClean(active::contains);
        List<MemorySegment> kept = new ArrayList<>();
        for (MemorySegment b : old) {
            MemorySegment out = cleaner.clean(b, false);
            if (out == b) kept.add(b);
            else if (out != null) kept.add(MemorySegment.ofArray(out.toArray(ValueLayout.JAVA_BYTE))); // its own copy
        }
        long before = 0;
        long after = 0;
        for (MemorySegment b : old) before += b.byteSize();
        for (MemorySegment b : kept) after += b.byteSize();
        return p.replaceCleaned(old, kept) ? before - after : 0;
    }
}
