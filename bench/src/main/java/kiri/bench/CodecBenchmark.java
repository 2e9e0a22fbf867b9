package kiri.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import kiri.launcher.bench.CodecCorpus;
import kiri.protocol.ApiMessage;
import kiri.protocol.Frames;
import kiri.protocol.Records;
import kiri.protocol.WireReader;
import kiri.protocol.WireWriter;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ProduceRequest;
import kiri.protocol.message.ProduceResponse;
import kiri.protocol.message.ResponseHeader;
import kiri.protocol.record.BatchCursor;
import kiri.protocol.record.RecordCursor;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.SendBuilder;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.requests.RequestHeader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Kiri's generated codec side by side with kafka-clients 4.1.1's over the same frames (from
 * {@link CodecCorpus}): each side in its natural form, Kiri on an off-heap {@link MemorySegment}
 * (as its transport delivers frames), Kafka on a heap {@link ByteBuffer} (as its network layer does).
 * Encoders write into a reused buffer on both sides. {@link #setup} checks that both codecs re-encode
 * every frame to exactly its bytes, so the two sides do the same work.
 *
 * <p>Produce frames: {@value CodecCorpus#PARTITIONS} partitions x one 16 KiB batch of 1 KiB records
 * (15 records each, 60 per frame). Fetch: the same partitions x 2 batches. Metadata: 3 brokers, 20
 * topics x 8 partitions.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow"})
public class CodecBenchmark {
    static final short PRODUCE_VERSION = 12;
    static final short FETCH_VERSION = 16;
    static final short METADATA_VERSION = 12;

    // Kiri: frames as off-heap segments, one reused output segment
    MemorySegment produceRequest;
    MemorySegment produceResponseFrame;
    MemorySegment fetchResponse;
    MemorySegment metadataResponse;
    ProduceResponse produceResponseBody;
    MemorySegment out;
    final BatchCursor batches = new BatchCursor();
    final RecordCursor records = new RecordCursor();

    // Kafka: the same frames as heap buffers, one reused output buffer
    ByteBuffer kProduceRequest;
    ByteBuffer kFetchResponse;
    ByteBuffer kMetadataResponse;
    ProduceResponseData kProduceResponseBody;
    ByteBuffer kOut;

    private static CodecCorpus.Frame frame(List<CodecCorpus.Frame> corpus, String prefix) {
        return corpus.stream().filter(f -> f.name().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no corpus frame " + prefix));
    }

    private static ByteBuffer heap(MemorySegment s) {
        return ByteBuffer.wrap(s.toArray(ValueLayout.JAVA_BYTE));
    }

    @Setup(Level.Trial)
    public void setup() {
        List<CodecCorpus.Frame> corpus = CodecCorpus.build();
        Arena arena = Arena.ofAuto();
        produceRequest = copy(arena, frame(corpus, "Produce v" + PRODUCE_VERSION + " request, ").bytes());
        produceResponseFrame = copy(arena, frame(corpus, "Produce v" + PRODUCE_VERSION + " response, ").bytes());
        fetchResponse = copy(arena, frame(corpus, "Fetch v" + FETCH_VERSION + " response, ").bytes());
        metadataResponse = copy(arena, frame(corpus, "Metadata v" + METADATA_VERSION + " response, ").bytes());
        out = arena.allocate(1 << 20);
        kOut = ByteBuffer.allocate(1 << 20);
        kProduceRequest = heap(produceRequest);
        kFetchResponse = heap(fetchResponse);
        kMetadataResponse = heap(metadataResponse);

        WireReader r = new WireReader(produceResponseFrame);
        ResponseHeader.read(r, ApiKey.PRODUCE.responseHeaderVersion(PRODUCE_VERSION));
        produceResponseBody = ProduceResponse.read(r, PRODUCE_VERSION);
        ByteBuffer b = heap(produceResponseFrame);
        org.apache.kafka.common.requests.ResponseHeader.parse(b, ApiKeys.PRODUCE.responseHeaderVersion(PRODUCE_VERSION));
        kProduceResponseBody = new ProduceResponseData(new ByteBufferAccessor(b), PRODUCE_VERSION);

        // Both codecs must give every frame back byte for byte, or the comparison means nothing.
        same("Kiri produce request", produceRequest, kiriProduceRequestRoundTrip());
        same("Kafka produce request", produceRequest, kafkaProduceRequestRoundTrip());
        same("Kiri produce response", produceResponseFrame, kiriProduceResponseEncode());
        same("Kafka produce response", produceResponseFrame, kafkaProduceResponseEncode());
        same("Kiri fetch response", fetchResponse, kiriFetchResponseRoundTrip());
        same("Kafka fetch response", fetchResponse, kafkaFetchResponseRoundTrip());
        same("Kiri metadata response", metadataResponse, kiriMetadataResponseRoundTrip());
        same("Kafka metadata response", metadataResponse, kafkaMetadataResponseRoundTrip());
        sameGathered("Kiri produce request, records by reference", produceRequest);
        sameSend("Kafka produce request, records by reference", produceRequest, kafkaProduceRequestRoundTripZeroCopy());
        if (kiriProduceRequestDecodeRecords() != kafkaProduceRequestDecodeRecords()) {
            throw new IllegalStateException("record walks disagree");
        }
    }

    private static MemorySegment copy(Arena arena, MemorySegment s) {
        return arena.allocate(s.byteSize()).copyFrom(s);
    }

    private static void same(String what, MemorySegment expected, Object encoded) {
        MemorySegment actual = encoded instanceof MemorySegment m ? m.asSlice(4)
                : MemorySegment.ofBuffer(((ByteBuffer) encoded).duplicate().flip()).asSlice(4);
        if (actual.byteSize() != expected.byteSize() || actual.mismatch(expected) >= 0) {
            throw new IllegalStateException(what + " does not re-encode to the frame's bytes (" + actual.byteSize()
                    + " vs " + expected.byteSize() + " bytes, first difference at " + actual.mismatch(expected) + ")");
        }
    }

    private MemorySegment allocate(long size) {
        return out.asSlice(0, size);
    }

    // ---------------------------------------------------------------- produce request: decode

    @Benchmark
    public Object kiriProduceRequestDecode() {
        return Frames.readRequest(produceRequest);
    }

    @Benchmark
    public Object kafkaProduceRequestDecode() {
        ByteBuffer b = kProduceRequest.duplicate();
        RequestHeader header = RequestHeader.parse(b);
        return new ProduceRequestData(new ByteBufferAccessor(b), header.apiVersion());
    }

    // ---------------------------------------------------------------- produce request: decode + walk every record

    @Benchmark
    public long kiriProduceRequestDecodeRecords() {
        ProduceRequest request = (ProduceRequest) Frames.readRequest(produceRequest).body();
        long sum = 0;
        for (ProduceRequest.TopicProduceData t : request.topicData()) {
            for (ProduceRequest.PartitionProduceData p : t.partitionData()) {
                batches.wrap(p.records().memory());
                while (batches.next()) {
                    records.wrap(batches.batch());
                    while (records.next()) {
                        sum += records.offsetDelta() + records.valueLength() + records.timestamp();
                    }
                }
            }
        }
        return sum;
    }

    @Benchmark
    public long kafkaProduceRequestDecodeRecords() {
        ByteBuffer b = kProduceRequest.duplicate();
        RequestHeader header = RequestHeader.parse(b);
        ProduceRequestData request = new ProduceRequestData(new ByteBufferAccessor(b), header.apiVersion());
        long sum = 0;
        for (ProduceRequestData.TopicProduceData t : request.topicData()) {
            for (ProduceRequestData.PartitionProduceData p : t.partitionData()) {
                for (RecordBatch batch : ((MemoryRecords) p.records()).batches()) {
                    for (Record record : batch) {
                        sum += (record.offset() - batch.baseOffset()) + record.valueSize() + record.timestamp();
                    }
                }
            }
        }
        return sum;
    }

    // ---------------------------------------------------------------- produce request: decode + encode

    @Benchmark
    public Object kiriProduceRequestRoundTrip() {
        Frames.Request request = Frames.readRequest(produceRequest);
        return Frames.encodeRequest(request.header(), request.body(), this::allocate);
    }

    @Benchmark
    public Object kafkaProduceRequestRoundTrip() {
        ByteBuffer b = kProduceRequest.duplicate();
        RequestHeader header = RequestHeader.parse(b);
        ProduceRequestData body = new ProduceRequestData(new ByteBufferAccessor(b), header.apiVersion());
        ObjectSerializationCache cache = new ObjectSerializationCache();
        short hv = header.headerVersion();
        int size = header.data().size(cache, hv) + body.size(cache, header.apiVersion());
        kOut.clear();
        kOut.putInt(size);
        ByteBufferAccessor w = new ByteBufferAccessor(kOut);
        header.data().write(w, cache, hv);
        body.write(w, cache, header.apiVersion());
        return kOut;
    }

    // ---------------------------------------------------------------- produce request: decode + encode, zero-copy

    /**
     * Leaves every {@code records} field out of the encoded frame and remembers where it goes: the
     * frame is then sent as [head, records, head, records, ...] with one gathering write, as a proxy
     * or broker forwarding a re-encoded produce request does.
     */
    static final class Gather implements WireWriter.Splicer {
        final long[] positions = new long[64];
        final MemorySegment[] sources = new MemorySegment[64];
        int count;

        @Override
        public boolean splice(WireWriter writer, Records.Region region) {
            positions[count] = writer.position();
            sources[count++] = region.memory();
            return true;
        }
    }

    final Gather gather = new Gather();

    @Benchmark
    public Object kiriProduceRequestRoundTripZeroCopy() {
        Frames.Request request = Frames.readRequest(produceRequest);
        long spliced = 0;
        for (ProduceRequest.TopicProduceData t : ((ProduceRequest) request.body()).topicData()) {
            for (ProduceRequest.PartitionProduceData p : t.partitionData()) {
                spliced += p.records() == null ? 0 : p.records().byteSize();
            }
        }
        gather.count = 0;
        return Frames.encodeRequest(request.header(), request.body(), this::allocate, spliced, gather);
    }

    /** kafka-clients' own zero-copy path: what its NetworkClient sends, records as buffers of their own. */
    @Benchmark
    public Object kafkaProduceRequestRoundTripZeroCopy() {
        ByteBuffer b = kProduceRequest.duplicate();
        RequestHeader header = RequestHeader.parse(b);
        ProduceRequestData body = new ProduceRequestData(new ByteBufferAccessor(b), header.apiVersion());
        return SendBuilder.buildRequestSend(header, body);
    }

    /** The head segment and the spliced records, put back together, must be the frame. */
    private void sameGathered(String what, MemorySegment expected) {
        MemorySegment head = (MemorySegment) kiriProduceRequestRoundTripZeroCopy();
        byte[] whole = new byte[(int) (head.byteSize() + Arrays.stream(gather.sources, 0, gather.count)
                .mapToLong(MemorySegment::byteSize).sum())];
        MemorySegment joined = MemorySegment.ofArray(whole);
        long from = 0;
        long at = 0;
        for (int i = 0; i < gather.count; i++) {
            long n = gather.positions[i] - from;
            MemorySegment.copy(head, from, joined, at, n);
            at += n;
            from = gather.positions[i];
            MemorySegment.copy(gather.sources[i], 0, joined, at, gather.sources[i].byteSize());
            at += gather.sources[i].byteSize();
        }
        MemorySegment.copy(head, from, joined, at, head.byteSize() - from);
        same(what, expected, joined);
    }

    /** Writes a kafka-clients Send into memory and compares it with the frame. */
    private static void sameSend(String what, MemorySegment expected, Object send) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TransferableChannel channel = new TransferableChannel() {
            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) {
                long n = 0;
                for (int i = offset; i < offset + length; i++) {
                    n += write(srcs[i]);
                }
                return n;
            }

            @Override
            public long write(ByteBuffer[] srcs) {
                return write(srcs, 0, srcs.length);
            }

            @Override
            public int write(ByteBuffer src) {
                int n = src.remaining();
                byte[] a = new byte[n];
                src.get(a);
                bytes.write(a, 0, n);
                return n;
            }

            @Override
            public boolean hasPendingWrites() {
                return false;
            }

            @Override
            public long transferFrom(FileChannel fileChannel, long position, long count) {
                throw new UnsupportedOperationException();
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        Send s = (Send) send;
        try {
            while (!s.completed()) {
                s.writeTo(channel);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        same(what, expected, MemorySegment.ofArray(bytes.toByteArray()));
    }

    // ---------------------------------------------------------------- produce response: encode

    @Benchmark
    public Object kiriProduceResponseEncode() {
        return Frames.encodeResponse(CodecCorpus.CORRELATION_ID, ApiKey.PRODUCE, PRODUCE_VERSION, produceResponseBody,
                this::allocate);
    }

    @Benchmark
    public Object kafkaProduceResponseEncode() {
        return kafkaEncodeResponse(kProduceResponseBody, ApiKeys.PRODUCE, PRODUCE_VERSION);
    }

    private ByteBuffer kafkaEncodeResponse(Message body, ApiKeys api, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        short hv = api.responseHeaderVersion(version);
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(CodecCorpus.CORRELATION_ID);
        int size = header.size(cache, hv) + body.size(cache, version);
        kOut.clear();
        kOut.putInt(size);
        ByteBufferAccessor w = new ByteBufferAccessor(kOut);
        header.write(w, cache, hv);
        body.write(w, cache, version);
        return kOut;
    }

    // ---------------------------------------------------------------- fetch response: decode + encode

    @Benchmark
    public Object kiriFetchResponseRoundTrip() {
        return kiriResponseRoundTrip(fetchResponse, ApiKey.FETCH, FETCH_VERSION);
    }

    @Benchmark
    public Object kafkaFetchResponseRoundTrip() {
        ByteBuffer b = kFetchResponse.duplicate();
        org.apache.kafka.common.requests.ResponseHeader.parse(b, ApiKeys.FETCH.responseHeaderVersion(FETCH_VERSION));
        FetchResponseData body = new FetchResponseData(new ByteBufferAccessor(b), FETCH_VERSION);
        return kafkaEncodeResponse(body, ApiKeys.FETCH, FETCH_VERSION);
    }

    // ---------------------------------------------------------------- metadata response: decode + encode

    @Benchmark
    public Object kiriMetadataResponseRoundTrip() {
        return kiriResponseRoundTrip(metadataResponse, ApiKey.METADATA, METADATA_VERSION);
    }

    @Benchmark
    public Object kafkaMetadataResponseRoundTrip() {
        ByteBuffer b = kMetadataResponse.duplicate();
        org.apache.kafka.common.requests.ResponseHeader.parse(b, ApiKeys.METADATA.responseHeaderVersion(METADATA_VERSION));
        MetadataResponseData body = new MetadataResponseData(new ByteBufferAccessor(b), METADATA_VERSION);
        return kafkaEncodeResponse(body, ApiKeys.METADATA, METADATA_VERSION);
    }

    private MemorySegment kiriResponseRoundTrip(MemorySegment frame, ApiKey api, short version) {
        WireReader r = new WireReader(frame);
        ResponseHeader header = ResponseHeader.read(r, api.responseHeaderVersion(version));
        ApiMessage body = api.readResponse(r, version);
        return Frames.encodeResponse(header.correlationId(), api, version, body, this::allocate);
    }
}
