package kiri.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import kiri.compress.BatchCompression;
import kiri.compress.Codecs;
import kiri.protocol.record.CompressionType;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordBatchBuilder;
import kiri.protocol.record.RecordsValidator;
import kiri.protocol.record.RecordsVerdict;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.MutableRecordBatch;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.CloseableIterator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What produce's record validation costs per batch: {@link RecordsValidator} over one 16 KiB batch
 * of 1 KiB records ({@value #RECORDS} records, 16-byte keys, values of random letters as
 * ProducerPerformance sends), uncompressed (in place, off-heap as the transport delivers it) and
 * lz4 (decompressed to a heap array, then walked), as the broker's produce handler does. For scale:
 * the batch's CRC32C check, which produce already did before, and Kafka's own walk of the same lz4
 * batch (kafka-clients' skipKeyValueIterator, what Kafka's LogValidator uses for compressed batches).
 * Per million records: ns/op x 1e6 / {@value #RECORDS}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow"})
public class RecordsValidatorBenchmark {
    static final int RECORDS = 15;
    private static final RecordsValidator.Policy POLICY = new RecordsValidator.Policy("bench", 0, false, false,
            Long.MAX_VALUE, 3_600_000L);

    @Param({"NONE", "LZ4"})
    public CompressionType codec;

    private RecordBatch batch;
    private MemoryRecords kafkaRecords;
    private final BufferSupplier buffers = BufferSupplier.create();

    @Setup
    public void setup() {
        MemorySegment heap = MemorySegment.ofArray(new byte[16 * 1024]);
        RecordBatchBuilder builder = new RecordBatchBuilder().wrap(heap, 0);
        Random random = new Random(1);
        long now = System.currentTimeMillis();
        for (int i = 0; i < RECORDS; i++) {
            byte[] key = new byte[16];
            byte[] value = new byte[1000];
            for (int j = 0; j < value.length; j++) {
                value[j] = (byte) ('A' + random.nextInt(26));
            }
            random.nextBytes(key);
            if (!builder.tryAppend(now + i, key, value, List.of())) {
                throw new IllegalStateException("16 KiB holds " + i + " records");
            }
        }
        MemorySegment built = BatchCompression.compress(heap.asSlice(0, builder.build()), codec);
        MemorySegment offHeap = Arena.global().allocate(built.byteSize());
        offHeap.copyFrom(built);
        batch = new RecordBatch().wrap(offHeap, 0);
        if (!batch.validateForProduce(Long.MAX_VALUE).isValid() || !validate().isValid()) {
            throw new IllegalStateException("bench batch is not valid: " + batch);
        }
        kafkaRecords = MemoryRecords.readableRecords(ByteBuffer.wrap(built.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
    }

    /** As the broker's produce handler validates records (kiri.router's ProducedRecords). */
    @Benchmark
    public RecordsVerdict validate() {
        long now = System.currentTimeMillis();
        if (!batch.isCompressed()) {
            return RecordsValidator.validate(batch, POLICY, now);
        }
        Codecs.Bytes records = BatchCompression.decompressRecords(batch, BatchCompression.DEFAULT_MAX_RECORDS_BYTES);
        return RecordsValidator.validate(batch, MemorySegment.ofArray(records.array()), 0, records.length(), POLICY, now);
    }

    /** The decompression alone (kiri.compress on aircompressor's pure-Java codecs): most of validate's cost for LZ4. */
    @Benchmark
    public Codecs.Bytes decompress() {
        return BatchCompression.decompressRecords(batch, BatchCompression.DEFAULT_MAX_RECORDS_BYTES);
    }

    /** The CRC32C check produce already does on every batch, for scale. */
    @Benchmark
    public boolean crc() {
        return batch.isCrcValid();
    }

    /** Kafka's walk of the same batch: every record, keys and values skipped (LogValidator's compressed path). */
    @Benchmark
    public long kafkaSkipKeyValue() {
        MutableRecordBatch b = kafkaRecords.batches().iterator().next();
        long sum = 0;
        try (CloseableIterator<Record> it = b.skipKeyValueIterator(buffers)) {
            while (it.hasNext()) {
                sum += it.next().offset();
            }
        }
        return sum;
    }
}
