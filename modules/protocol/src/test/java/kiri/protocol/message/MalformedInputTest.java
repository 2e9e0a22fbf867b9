package kiri.protocol.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import kiri.protocol.ApiMessage;
import kiri.protocol.Frames;
import kiri.protocol.ProtocolException;
import kiri.protocol.WireReader;
import kiri.protocol.WireWriter;
import org.junit.jupiter.api.Test;

/** Malformed frames fail with {@link ProtocolException} naming what and where, and nothing else. */
class MalformedInputTest {

    /** A real request frame (header + body, no size prefix) for every api key and version. */
    private static List<MemorySegment> realRequestFrames(Random rnd) throws Exception {
        List<MemorySegment> frames = new ArrayList<>();
        for (TestSpecs.Spec spec : TestSpecs.all()) {
            if (!spec.kind().equals("request") || spec.highest() < spec.lowest()) {
                continue;
            }
            Class<?> cls = Class.forName("kiri.protocol.message." + spec.name());
            for (short v = spec.lowest(); v <= spec.highest(); v++) {
                ApiMessage body = (ApiMessage) Mirror.build(cls, TestSpecs.random(spec, v, rnd), false);
                RequestHeader header = new RequestHeader().setRequestApiKey(spec.apiKey()).setRequestApiVersion(v)
                        .setCorrelationId(rnd.nextInt()).setClientId("client-" + v);
                MemorySegment withPrefix = Frames.encodeRequest(header, body, n -> MemorySegment.ofArray(new byte[(int) n]));
                frames.add(withPrefix.asSlice(4));
            }
        }
        return frames;
    }

    @Test
    void everyRequestFrameCutAtEveryOffsetFailsCleanly() throws Exception {
        List<MemorySegment> frames = realRequestFrames(new Random(7));
        long cuts = 0;
        for (MemorySegment frame : frames) {
            Frames.Request whole = Frames.readRequest(frame); // the uncut frame decodes
            assertEquals(frame.byteSize(), whole.header().size(whole.api().requestHeaderVersion(whole.version()))
                    + whole.body().size(whole.version()));
            for (long cut = 0; cut < frame.byteSize(); cut++) {
                // copy into an exact-size off-heap segment so a read past the end can't hide in a larger array
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment truncated = arena.allocate(Math.max(cut, 1)).asSlice(0, cut);
                    MemorySegment.copy(frame, 0, truncated, 0, cut);
                    ProtocolException e = assertThrows(ProtocolException.class, () -> Frames.readRequest(truncated),
                            () -> "cut at " + frame.byteSize());
                    assertTrue(e.getMessage().contains("offset") || e.getMessage().contains("unknown"), e.getMessage());
                }
                cuts++;
            }
        }
        System.out.printf("truncation: %d request frames cut at every offset: %d truncated decodes, all ProtocolException%n",
                frames.size(), cuts);
        assertTrue(frames.size() >= 292, "frames: " + frames.size());
    }

    @Test
    void randomCorruptionNeverEscapesAsAnotherException() throws Exception {
        Random rnd = new Random(11);
        List<MemorySegment> frames = realRequestFrames(rnd);
        int decoded = 0;
        int rejected = 0;
        for (MemorySegment frame : frames) {
            for (int i = 0; i < 30; i++) {
                byte[] bytes = frame.toArray(ValueLayout.JAVA_BYTE);
                for (int flips = 1 + rnd.nextInt(3); flips > 0; flips--) {
                    bytes[rnd.nextInt(bytes.length)] = (byte) rnd.nextInt();
                }
                try {
                    Frames.readRequest(MemorySegment.ofArray(bytes));
                    decoded++;
                } catch (ProtocolException expected) {
                    rejected++;
                }
            }
        }
        System.out.printf("corruption: %d decoded, %d rejected with ProtocolException, 0 other exceptions%n",
                decoded, rejected);
        assertTrue(rejected > 0);
    }

    private static MemorySegment bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return MemorySegment.ofArray(b);
    }

    @Test
    void hugeArrayCountIsRejectedBeforeAllocating() {
        // Metadata v4 body: topics array count 0x7fffffff, then nothing
        MemorySegment body = bytes(0x7f, 0xff, 0xff, 0xff, 1, 0);
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> MetadataRequest.read(new WireReader(body), (short) 4));
        assertTrue(e.getMessage().contains("MetadataRequest.Topics") && e.getMessage().contains("2147483647"),
                e.getMessage());
    }

    @Test
    void negativeLengthForNonNullableStringIsNamed() {
        // FindCoordinator v1: key = string length -1
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> FindCoordinatorRequest.read(new WireReader(bytes(0xff, 0xff, 0)), (short) 1));
        assertTrue(e.getMessage().contains("non-nullable field FindCoordinatorRequest.Key"), e.getMessage());
    }

    @Test
    void oversizedStringLengthIsRejected() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> FindCoordinatorRequest.read(new WireReader(bytes(0x7f, 0xff, 'a', 'b', 0)), (short) 1));
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
    }

    @Test
    void varintLongerThanFiveBytesIsRejected() {
        WireReader r = new WireReader(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
        ProtocolException e = assertThrows(ProtocolException.class, r::readUnsignedVarint);
        assertTrue(e.getMessage().contains("varint"), e.getMessage());
    }

    @Test
    void taggedFieldSizeBeyondFrameIsRejected() {
        // ApiVersions v3 request: client software name "" and version "" (compact), then 1 tagged field, tag 0, size 100
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ApiVersionsRequest.read(new WireReader(bytes(1, 1, 1, 0, 100)), (short) 3));
        assertTrue(e.getMessage().contains("tagged field"), e.getMessage());
    }

    @Test
    void unknownApiKeyAndUnsupportedVersionAreProtocolErrors() {
        assertNull(ApiKey.forId(999));
        assertNull(Frames.peekApi(bytes(0x03, 0xe7, 0, 0)));
        ProtocolException unknown = assertThrows(ProtocolException.class,
                () -> Frames.readRequest(bytes(0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0, 0)));
        assertTrue(unknown.getMessage().contains("unknown api key 999"), unknown.getMessage());
        ProtocolException version = assertThrows(ProtocolException.class,
                () -> ApiKey.PRODUCE.readRequest(new WireReader(bytes(0, 0)), (short) 99));
        assertTrue(version.getMessage().contains("no version 99"), version.getMessage());
    }

    @Test
    void writingNullIntoNonNullableFieldIsRefused() {
        FindCoordinatorRequest r = new FindCoordinatorRequest().setKey(null);
        ProtocolException e = assertThrows(ProtocolException.class, () -> r.size((short) 1));
        assertTrue(e.getMessage().contains("FindCoordinatorRequest.Key"), e.getMessage());
        MemorySegment out = MemorySegment.ofArray(new byte[16]);
        assertThrows(ProtocolException.class, () -> r.write(new WireWriter(out), (short) 1));
    }
}
