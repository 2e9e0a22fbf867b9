package kiri.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ProduceRequest;
import kiri.protocol.message.RequestHeader;
import org.junit.jupiter.api.Test;

/** Encoding with a splicer: the fields it takes are left out, and putting them back gives the plain encoding. */
class FramesSpliceTest {
    private static MemorySegment bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return MemorySegment.ofArray(b);
    }

    private static ProduceRequest request() {
        ProduceRequest.TopicProduceData topic = new ProduceRequest.TopicProduceData().setName("t");
        for (int p = 0; p < 3; p++) {
            topic.partitionData().add(new ProduceRequest.PartitionProduceData().setIndex(p).setRecords(bytes(100 + p * 1000, p)));
        }
        return new ProduceRequest().setAcks((short) -1).setTimeoutMs(30_000).setTopicData(new ArrayList<>(List.of(topic)));
    }

    @Test
    void requestsSplicedAndPutBackEqualThePlainEncoding() {
        for (short version : new short[] {3, 8, 9, 12}) {
            RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.PRODUCE.id).setRequestApiVersion(version)
                    .setCorrelationId(7).setClientId("c");
            ProduceRequest body = request();
            byte[] plain = Frames.encodeRequest(header, body, n -> MemorySegment.ofArray(new byte[(int) n]))
                    .toArray(ValueLayout.JAVA_BYTE);
            List<long[]> at = new ArrayList<>();
            List<MemorySegment> taken = new ArrayList<>();
            MemorySegment head = Frames.encodeRequest(header, body, n -> MemorySegment.ofArray(new byte[(int) n]),
                    100 + 1100 + 2100, (writer, source) -> {
                        at.add(new long[] {writer.position()});
                        taken.add(source.memory());
                        return true;
                    });
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            long from = 0;
            for (int i = 0; i < taken.size(); i++) {
                joined.writeBytes(head.asSlice(from, at.get(i)[0] - from).toArray(ValueLayout.JAVA_BYTE));
                joined.writeBytes(taken.get(i).toArray(ValueLayout.JAVA_BYTE));
                from = at.get(i)[0];
            }
            joined.writeBytes(head.asSlice(from).toArray(ValueLayout.JAVA_BYTE));
            assertEquals(3, taken.size(), "v" + version);
            assertArrayEquals(plain, joined.toByteArray(), "v" + version);
        }
    }

    @Test
    void aSplicerThatLeavesOutOtherThanAnnouncedIsAnError() {
        RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.PRODUCE.id).setRequestApiVersion((short) 9)
                .setCorrelationId(1).setClientId("c");
        // takes fewer bytes than announced: the shorter output overflows
        assertThrows(IndexOutOfBoundsException.class, () -> Frames.encodeRequest(header, request(),
                n -> MemorySegment.ofArray(new byte[(int) n]), 100, (writer, source) -> false));
        // takes more: the output is not filled
        assertThrows(IllegalStateException.class, () -> Frames.encodeRequest(header, request(),
                n -> MemorySegment.ofArray(new byte[(int) n]), 100, (writer, source) -> true));
    }
}
