package kiri.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MemoryRecordsBuilder;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The record a ListOffsets by timestamp lands on inside one batch built by kafka-clients, compressed or not. */
class RecordTimestampsTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final long BASE = 100;

    /** Records at BASE..BASE+4 with timestamps T0, T0+10, T0+5, T0+20, T0+20 (out of order, as producers may). */
    private static MemorySegment batch(String codec, TimestampType type) {
        long[] ts = {T0, T0 + 10, T0 + 5, T0 + 20, T0 + 20};
        ByteBuffer buf = ByteBuffer.allocate(4096);
        MemoryRecordsBuilder b = MemoryRecords.builder(buf, RecordBatch.CURRENT_MAGIC_VALUE, Compression.of(CompressionType.forName(codec)).build(), type,
                BASE, type == TimestampType.LOG_APPEND_TIME ? T0 + 99 : RecordBatch.NO_TIMESTAMP);
        for (int i = 0; i < ts.length; i++) b.append(new SimpleRecord(ts[i], null, ("v" + i).getBytes(StandardCharsets.UTF_8)));
        ByteBuffer out = b.build().buffer();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return MemorySegment.ofArray(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void findsTheFirstRecordReachingTheTimestamp(String codec) {
        MemorySegment b = batch(codec, TimestampType.CREATE_TIME);
        assertEquals(new RecordTimestamps.Found(BASE, T0), RecordTimestamps.firstAtOrAfter(b, T0 - 1, 0));
        assertEquals(new RecordTimestamps.Found(BASE + 1, T0 + 10), RecordTimestamps.firstAtOrAfter(b, T0 + 3, 0), "in offset order");
        assertEquals(new RecordTimestamps.Found(BASE + 3, T0 + 20), RecordTimestamps.firstAtOrAfter(b, T0 + 20, 0), "the first of equals");
        assertEquals(new RecordTimestamps.Found(BASE + 2, T0 + 5), RecordTimestamps.firstAtOrAfter(b, T0, BASE + 2), "from minOffset on");
        assertNull(RecordTimestamps.firstAtOrAfter(b, T0 + 21, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "lz4"})
    void logAppendTimeGivesEveryRecordTheBatchTime(String codec) {
        MemorySegment b = batch(codec, TimestampType.LOG_APPEND_TIME);
        assertEquals(new RecordTimestamps.Found(BASE + 1, T0 + 99), RecordTimestamps.firstAtOrAfter(b, T0 + 50, BASE + 1));
        assertNull(RecordTimestamps.firstAtOrAfter(b, T0 + 100, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gzip"})
    void aBatchThatCannotBeReadAnswersAtBatchGranularity(String codec) {
        MemorySegment b = batch(codec, TimestampType.CREATE_TIME);
        b.asSlice(kiri.protocol.record.RecordBatch.HEADER_SIZE + 4).fill((byte) 0x5a); // the gzip stream is garbage now
        assertEquals(new RecordTimestamps.Found(BASE + 2, T0 + 20), RecordTimestamps.firstAtOrAfter(b, T0, BASE + 2));
        assertNull(RecordTimestamps.firstAtOrAfter(b, T0 + 21, 0));
    }
}
