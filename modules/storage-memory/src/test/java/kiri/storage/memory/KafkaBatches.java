package kiri.storage.memory;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;

/** Real v2 batches built by kafka-clients, as a producer would send them, and Kafka's view of patched bytes. */
final class KafkaBatches {
    private KafkaBatches() {}

    static SimpleRecord[] records(int count, long timestamp) {
        SimpleRecord[] r = new SimpleRecord[count];
        for (int i = 0; i < count; i++) r[i] = new SimpleRecord(timestamp + i, null, ("v" + i).getBytes(StandardCharsets.UTF_8));
        return r;
    }

    static MemorySegment plain(int count) {
        return segment(MemoryRecords.withRecords(Compression.NONE, records(count, 1_000L)));
    }

    static MemorySegment idempotent(long pid, short epoch, int baseSeq, int count) {
        return segment(MemoryRecords.withIdempotentRecords(Compression.NONE, pid, epoch, baseSeq, records(count, 1_000L)));
    }

    static MemorySegment transactional(long pid, short epoch, int baseSeq, int count) {
        return segment(MemoryRecords.withTransactionalRecords(Compression.NONE, pid, epoch, baseSeq, records(count, 1_000L)));
    }

    static MemorySegment segment(MemoryRecords records) {
        ByteBuffer b = records.buffer();
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return MemorySegment.ofArray(bytes);
    }

    /** Kafka's parse of a single batch in {@code segment}, CRC-checked. */
    static RecordBatch parse(MemorySegment segment) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(segment.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
        RecordBatch batch = records.batches().iterator().next();
        batch.ensureValid();
        return batch;
    }
}
