package kiri.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.ProduceRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The typed records field: decoded as a view, encoded from memory or file regions. */
class RecordsTest {
    @TempDir
    Path dir;

    private static MemorySegment bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return MemorySegment.ofArray(b);
    }

    private static byte[] encode(ApiMessage m, short version, WireWriter.Splicer splicer, long leftOut) {
        MemorySegment out = MemorySegment.ofArray(new byte[(int) (m.size(version) - leftOut)]);
        WireWriter w = new WireWriter(out, 0, splicer);
        m.write(w, version);
        assertEquals(out.byteSize(), w.position());
        return out.toArray(ValueLayout.JAVA_BYTE);
    }

    private static FetchResponse fetch(Records records) {
        FetchResponse.PartitionData p = new FetchResponse.PartitionData().setPartitionIndex(0).setRecords(records);
        FetchResponse.FetchableTopicResponse t = new FetchResponse.FetchableTopicResponse().setTopic("t");
        t.partitions().add(p);
        return new FetchResponse().setResponses(new ArrayList<>(List.of(t)));
    }

    @Test
    void decodedRecordsAreAViewOfTheFrameNotACopy() {
        MemorySegment batch = bytes(300, 1);
        ProduceRequest.TopicProduceData t = new ProduceRequest.TopicProduceData().setName("t");
        t.partitionData().add(new ProduceRequest.PartitionProduceData().setIndex(0).setRecords(batch));
        ProduceRequest request = new ProduceRequest().setAcks((short) 1).setTopicData(new ArrayList<>(List.of(t)));
        MemorySegment frame = MemorySegment.ofArray(encode(request, (short) 9, null, 0));
        ProduceRequest back = ProduceRequest.read(new WireReader(frame), (short) 9);
        Records r = back.topicData().getFirst().partitionData().getFirst().records();
        Records.Memory memory = assertInstanceOf(Records.Memory.class, r);
        assertEquals(-1, memory.segment().mismatch(batch), "the same bytes");
        assertTrue(memory.segment().heapBase().orElseThrow() == frame.heapBase().orElseThrow(), "a slice of the frame");
        assertEquals(request, back);
    }

    @Test
    void regionsInMemoryEncodeBackToBackLikeOneSegment() {
        MemorySegment a = bytes(100, 1);
        MemorySegment b = bytes(250, 2);
        MemorySegment joined = MemorySegment.ofArray(new byte[350]);
        MemorySegment.copy(a, 0, joined, 0, 100);
        MemorySegment.copy(b, 0, joined, 100, 250);
        Records regions = Records.of(List.of(new Records.Memory(a), new Records.Memory(b)));
        assertInstanceOf(Records.Regions.class, regions);
        assertEquals(350, regions.byteSize());
        assertEquals(0, regions.fileBytes());
        for (short v : new short[] {4, 11, 12, 16}) {
            assertArrayEquals(encode(fetch(Records.of(joined)), v, null, 0), encode(fetch(regions), v, null, 0), "v" + v);
        }
    }

    @Test
    void oneRegionIsTheRecordsItself() {
        Records.Memory one = new Records.Memory(bytes(10, 3));
        assertSame(one, Records.of(List.of(one)));
        assertEquals(null, Records.of((MemorySegment) null));
    }

    @Test
    void fileRegionsAreLeftToTheSplicerAndAreAnErrorWithoutOne() throws Exception {
        Path path = dir.resolve("log");
        Files.write(path, bytes(64, 4).toArray(ValueLayout.JAVA_BYTE));
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            Records.FileRegion file = new Records.FileRegion(ch, 10, 40);
            Records mixed = Records.of(List.of(new Records.Memory(bytes(20, 5)), file));
            assertEquals(60, mixed.byteSize());
            assertEquals(40, mixed.fileBytes());
            assertThrows(IllegalStateException.class, mixed::memory);
            FetchResponse response = fetch(mixed);
            assertThrows(IllegalStateException.class, () -> encode(response, (short) 12, null, 0));

            List<Long> at = new ArrayList<>();
            byte[] head = encode(response, (short) 12, (w, region) -> {
                if (region instanceof Records.FileRegion f) {
                    assertSame(file, f);
                    at.add(w.position());
                    return true;
                }
                return false;
            }, 40);
            assertEquals(1, at.size());
            // the file bytes, put back where the splicer left them out, give the memory-only encoding
            byte[] fileBytes = bytes(64, 4).asSlice(10, 40).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment all = MemorySegment.ofArray(new byte[20 + 40]);
            MemorySegment.copy(bytes(20, 5), 0, all, 0, 20);
            MemorySegment.copy(MemorySegment.ofArray(fileBytes), 0, all, 20, 40);
            byte[] plain = encode(fetch(Records.of(all)), (short) 12, null, 0);
            int cut = (int) (long) at.getFirst();
            byte[] joined = new byte[plain.length];
            System.arraycopy(head, 0, joined, 0, cut);
            System.arraycopy(fileBytes, 0, joined, cut, 40);
            System.arraycopy(head, cut, joined, cut + 40, head.length - cut);
            assertArrayEquals(plain, joined);
        }
    }
}
