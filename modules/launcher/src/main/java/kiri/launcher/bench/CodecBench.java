package kiri.launcher.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiri.protocol.ApiMessage;
import kiri.protocol.Frames;
import kiri.protocol.WireReader;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ResponseHeader;

/**
 * Decodes each corpus frame and encodes it again into a reused buffer, checking that the bytes
 * match every time: a mismatch is a {@link Mismatch}, never a silent pass.
 */
public final class CodecBench {
    /** Decoding then re-encoding a frame did not give the same bytes back. */
    public static final class Mismatch extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }

    /** Per-API figures: frames decoded+encoded, bytes of those frames, nanoseconds spent. */
    public record Stats(String api, int key, long frames, long bytes, long nanos) {
        public double nsPerFrame() {
            return frames == 0 ? 0 : (double) nanos / frames;
        }

        /** Frame bytes through decode+encode per second, in MiB/s. */
        public double mbPerSecond() {
            return nanos == 0 ? 0 : bytes / (nanos / 1e9) / (1024.0 * 1024.0);
        }
    }

    private final MemorySegment out;
    private long outSize;

    public CodecBench(List<CodecCorpus.Frame> frames) {
        long max = 0;
        for (CodecCorpus.Frame f : frames) {
            max = Math.max(max, f.size() + 4);
        }
        this.out = Arena.ofAuto().allocate(Math.max(64, max));
    }

    private MemorySegment allocate(long size) {
        outSize = size;
        return out.asSlice(0, size);
    }

    /** Decodes and re-encodes one frame; returns its re-encoded size and throws {@link Mismatch} if it differs. */
    public long roundTrip(CodecCorpus.Frame frame) {
        MemorySegment bytes = frame.bytes();
        if (frame.request()) {
            Frames.Request request = Frames.readRequest(bytes);
            Frames.encodeRequest(request.header(), request.body(), this::allocate);
        } else {
            ApiKey api = frame.api();
            WireReader r = new WireReader(bytes);
            ResponseHeader header = ResponseHeader.read(r, api.responseHeaderVersion(frame.version()));
            ApiMessage body = api.readResponse(r, frame.version());
            if (r.remaining() != 0) {
                throw new Mismatch(frame.name() + ": " + r.remaining() + " bytes left after decoding");
            }
            Frames.encodeResponse(header.correlationId(), api, frame.version(), body, this::allocate);
        }
        long size = outSize - 4;
        if (size != bytes.byteSize()) {
            throw new Mismatch(frame.name() + ": re-encoded to " + size + " bytes, the frame has " + bytes.byteSize());
        }
        long at = MemorySegment.mismatch(out, 4, 4 + size, bytes, 0, size);
        if (at >= 0) {
            throw new Mismatch(frame.name() + ": re-encoded bytes differ at offset " + at + " of " + size);
        }
        return size;
    }

    /**
     * Runs {@code warmup} untimed then {@code iterations} timed round trips of every frame,
     * grouped by api key (requests and responses together), in corpus order.
     */
    public Map<ApiKey, Stats> run(List<CodecCorpus.Frame> frames, int warmup, int iterations) {
        Map<ApiKey, List<CodecCorpus.Frame>> byApi = new LinkedHashMap<>();
        for (CodecCorpus.Frame f : frames) {
            byApi.computeIfAbsent(f.api(), k -> new ArrayList<>()).add(f);
        }
        for (int i = 0; i < warmup; i++) {
            for (CodecCorpus.Frame f : frames) {
                roundTrip(f);
            }
        }
        Map<ApiKey, Stats> stats = new LinkedHashMap<>();
        for (Map.Entry<ApiKey, List<CodecCorpus.Frame>> e : byApi.entrySet()) {
            List<CodecCorpus.Frame> group = e.getValue();
            long bytes = 0;
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                for (int j = 0; j < group.size(); j++) {
                    bytes += roundTrip(group.get(j));
                }
            }
            long nanos = System.nanoTime() - start;
            stats.put(e.getKey(), new Stats(e.getKey().title, e.getKey().id, (long) iterations * group.size(), bytes, nanos));
        }
        return stats;
    }
}
