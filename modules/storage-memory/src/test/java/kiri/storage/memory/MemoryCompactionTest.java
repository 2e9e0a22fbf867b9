package kiri.storage.memory;

import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.Records;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code memory://} compacts topics with cleanup.policy=compact at maintenance: each key's latest record stays at its
 * offset, old tombstones go, the active part (since the last roll) is left alone; compact alone is not retained by
 * time, compact,delete is.
 */
class MemoryCompactionTest {
    private final AtomicLong now = new AtomicLong(1_000_000L);
    private final Storage storage = new MemoryStorage(new StorageContext(1, "c", "localhost", 9092, new InstantSource() {
        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(now.get());
        }
    }));
    private final TopicPartition tp = new TopicPartition("c", 0);

    @AfterEach
    void close() {
        storage.close();
    }

    private void produce(long ts, String... kv) {
        SimpleRecord[] r = new SimpleRecord[kv.length / 2];
        for (int i = 0; i < r.length; i++) {
            r[i] = new SimpleRecord(ts, kv[2 * i].getBytes(StandardCharsets.UTF_8),
                    kv[2 * i + 1] == null ? null : kv[2 * i + 1].getBytes(StandardCharsets.UTF_8));
        }
        await(storage.produce(null, tp, KafkaBatches.segment(MemoryRecords.withRecords(Compression.NONE, r))));
    }

    private List<String> read() {
        List<String> out = new ArrayList<>();
        try (FetchResult f = await(storage.fetch(tp, 0, Integer.MAX_VALUE, true, IsolationLevel.READ_UNCOMMITTED))) {
            for (Records.Region region : f.batches()) {
                MemorySegment s = ((Records.Memory) region).segment();
                for (RecordBatch b : MemoryRecords.readableRecords(ByteBuffer.wrap(s.toArray(ValueLayout.JAVA_BYTE))).batches()) {
                    b.ensureValid();
                    for (Record r : b) out.add(r.offset() + ":" + text(r.key()) + "=" + (r.hasValue() ? text(r.value()) : "null"));
                }
            }
        }
        return out;
    }

    private static String text(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    @Test
    void keepsTheLatestRecordPerKeyOutsideTheActivePart() {
        await(storage.createTopic(new NewTopic("c", 1, (short) 1, Map.of("cleanup.policy", "compact", "segment.ms", "10",
                "delete.retention.ms", "100", "min.cleanable.dirty.ratio", "0.01", "retention.ms", "1")), false));
        long t = now.get();
        produce(t - 1000, "a", "1", "b", "1", "c", "1");
        produce(t - 1000, "a", "2", "b", null);
        produce(t, "c", "2", "d", null);
        await(storage.maintain(t)); // starts the active part's clock: nothing sealed yet
        assertEquals(7, read().size());
        now.addAndGet(20);
        await(storage.maintain(now.get())); // older than segment.ms: sealed and cleaned
        assertEquals(List.of("3:a=2", "5:c=2", "6:d=null"), read(),
                "latest per key at their offsets; b's old tombstone gone, d's fresh one kept; not retained by time");
        produce(now.get(), "a", "3");
        await(storage.maintain(now.get()));
        assertTrue(read().contains("3:a=2"), "the new active part is left alone: " + read());
        now.addAndGet(200);
        await(storage.maintain(now.get()));
        assertEquals(List.of("5:c=2", "7:a=3"), read(), "d's tombstone outlived delete.retention.ms");
    }
}
