package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import kiri.storage.api.BatchRegion;
import kiri.storage.api.FetchResult;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;

/** Real v2 batches built by kafka-clients, and Kafka's parse of what a fetch returns. */
final class Batches {
    private Batches() {}

    static SimpleRecord[] records(String prefix, int count, long timestamp) {
        SimpleRecord[] r = new SimpleRecord[count];
        for (int i = 0; i < count; i++) r[i] = new SimpleRecord(timestamp + i, null, (prefix + i).getBytes(StandardCharsets.UTF_8));
        return r;
    }

    static MemorySegment plain(String prefix, int count, long timestamp) {
        return segment(MemoryRecords.withRecords(Compression.NONE, records(prefix, count, timestamp)));
    }

    static MemorySegment plain(int count) {
        return plain("v", count, 1_000L);
    }

    /** One record of {@code size} bytes. */
    static MemorySegment big(int size, long timestamp) {
        return segment(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord(timestamp, null, new byte[size])));
    }

    static MemorySegment idempotent(long pid, short epoch, int baseSeq, int count) {
        return segment(MemoryRecords.withIdempotentRecords(Compression.NONE, pid, epoch, baseSeq, records("i", count, 1_000L)));
    }

    static MemorySegment transactional(long pid, short epoch, int baseSeq, int count) {
        return segment(MemoryRecords.withTransactionalRecords(Compression.NONE, pid, epoch, baseSeq, records("t", count, 1_000L)));
    }

    static MemorySegment segment(MemoryRecords records) {
        ByteBuffer b = records.buffer();
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return MemorySegment.ofArray(bytes);
    }

    /** The bytes a fetch returned, read through the file ranges as a transport would send them. */
    static byte[] bytes(FetchResult r) throws IOException {
        ByteBuffer out = ByteBuffer.allocate((int) r.byteSize());
        for (BatchRegion region : r.batches()) {
            switch (region) {
                case BatchRegion.FileRange f -> {
                    ByteBuffer b = ByteBuffer.allocate((int) f.length());
                    while (b.hasRemaining()) {
                        if (f.channel().read(b, f.position() + b.position()) < 0) throw new IOException("short file");
                    }
                    out.put(b.flip());
                }
                case BatchRegion.Segment s -> out.put(s.segment().toArray(ValueLayout.JAVA_BYTE));
            }
        }
        return out.array();
    }

    /** Kafka's parse of fetched bytes: every batch CRC-checked. */
    static List<RecordBatch> parse(byte[] bytes) {
        List<RecordBatch> out = new ArrayList<>();
        for (RecordBatch b : MemoryRecords.readableRecords(ByteBuffer.wrap(bytes)).batches()) {
            b.ensureValid();
            out.add(b);
        }
        return out;
    }

    /** Every record's offset in fetched bytes. */
    static List<Long> offsets(byte[] bytes) {
        List<Long> out = new ArrayList<>();
        for (RecordBatch b : parse(bytes)) for (Record r : b) out.add(r.offset());
        return out;
    }

    static String value(Record r) {
        ByteBuffer v = r.value();
        byte[] b = new byte[v.remaining()];
        v.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
