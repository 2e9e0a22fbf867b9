package kiri.testsupport;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;

/** Real v2 batches built by kafka-clients, as a producer would send them, and Kafka's parse of bytes an engine returns. */
public final class KafkaBatches {
    private KafkaBatches() {}

    /** {@code count} records valued {@code prefix0, prefix1, ...}, timestamped from {@code timestamp} on. */
    public static SimpleRecord[] records(String prefix, int count, long timestamp) {
        SimpleRecord[] r = new SimpleRecord[count];
        for (int i = 0; i < count; i++) r[i] = new SimpleRecord(timestamp + i, null, (prefix + i).getBytes(StandardCharsets.UTF_8));
        return r;
    }

    public static SimpleRecord[] records(int count, long timestamp) {
        return records("v", count, timestamp);
    }

    public static MemorySegment plain(String prefix, int count, long timestamp) {
        return segment(MemoryRecords.withRecords(Compression.NONE, records(prefix, count, timestamp)));
    }

    public static MemorySegment plain(int count) {
        return plain("v", count, 1_000L);
    }

    /** One record of {@code size} bytes. */
    public static MemorySegment big(int size, long timestamp) {
        return segment(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(timestamp, null, new byte[size])));
    }

    public static MemorySegment idempotent(long pid, short epoch, int baseSeq, int count) {
        return segment(MemoryRecords.withIdempotentRecords(Compression.NONE, pid, epoch, baseSeq, records(count, 1_000L)));
    }

    public static MemorySegment transactional(long pid, short epoch, int baseSeq, int count) {
        return segment(MemoryRecords.withTransactionalRecords(Compression.NONE, pid, epoch, baseSeq, records(count, 1_000L)));
    }

    public static MemorySegment segment(MemoryRecords records) {
        ByteBuffer b = records.buffer();
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return MemorySegment.ofArray(bytes);
    }

    /** Kafka's parse of a single batch in {@code segment}, CRC-checked. */
    public static RecordBatch parse(MemorySegment segment) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(segment.toArray(ValueLayout.JAVA_BYTE)));
        RecordBatch batch = records.batches().iterator().next();
        batch.ensureValid();
        return batch;
    }

    /** Kafka's parse of fetched bytes: every batch CRC-checked. */
    public static List<RecordBatch> parse(byte[] bytes) {
        List<RecordBatch> out = new ArrayList<>();
        for (RecordBatch b : MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)).batches()) {
            b.ensureValid();
            out.add(b);
        }
        return out;
    }

    /** Every record's offset in fetched bytes. */
    public static List<Long> offsets(byte[] bytes) {
        List<Long> out = new ArrayList<>();
        for (RecordBatch b : parse(bytes)) for (Record r : b) out.add(r.offset());
        return out;
    }

    /** A record's value as UTF-8 text. */
    public static String value(Record r) {
        ByteBuffer v = r.value();
        byte[] b = new byte[v.remaining()];
        v.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
