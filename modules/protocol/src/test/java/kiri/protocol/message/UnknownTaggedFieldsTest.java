package kiri.protocol.message;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import kiri.protocol.Frames;
import kiri.protocol.RawTaggedField;
import org.junit.jupiter.api.Test;

/**
 * Tagged fields this codec does not know come back out as they came in, whatever their tag number:
 * in structs with no known tags (one section call) and after the known tags of one that has some,
 * including the largest tag a varint can carry (0xFFFFFFFF).
 */
class UnknownTaggedFieldsTest {
    private static final int LARGEST_TAG = -1; // 0xFFFFFFFF unsigned

    private static RawTaggedField tag(int tag, String data) {
        return new RawTaggedField(tag, MemorySegment.ofArray(data.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static MemorySegment body(MemorySegment frame) {
        return frame.asSlice(4); // without the size prefix, as the readers take frames
    }

    @Test
    void aStructWithoutKnownTagsKeepsEveryUnknownOne() {
        ProduceRequest request = new ProduceRequest().setAcks((short) -1).setTimeoutMs(30_000);
        ProduceRequest.PartitionProduceData partition = new ProduceRequest.PartitionProduceData().setIndex(3);
        partition.unknownTaggedFields().addAll(List.of(tag(7, "seven"), tag(LARGEST_TAG, "largest")));
        request.unknownTaggedFields().add(tag(LARGEST_TAG, "top"));
        request.setTopicData(List.of(new ProduceRequest.TopicProduceData().setName("t").setPartitionData(List.of(partition))));
        RequestHeader header = new RequestHeader().setRequestApiKey(ProduceRequest.API_KEY).setRequestApiVersion((short) 12)
                .setCorrelationId(5).setClientId("c");

        MemorySegment frame = Frames.encodeRequest(header, request, n -> Arena.ofAuto().allocate(n));
        ProduceRequest back = (ProduceRequest) Frames.readRequest(body(frame)).body();

        assertEquals(request.unknownTaggedFields(), back.unknownTaggedFields());
        assertEquals(partition.unknownTaggedFields(),
                back.topicData().getFirst().partitionData().getFirst().unknownTaggedFields());
        assertEquals(request, back);
    }

    @Test
    void unknownTagsAfterTheKnownOnesStayInOrder() {
        ApiVersionsResponse response = new ApiVersionsResponse().setFinalizedFeaturesEpoch(9).setZkMigrationReady(true);
        response.unknownTaggedFields().addAll(List.of(tag(2_000, "between"), tag(LARGEST_TAG, "largest")));

        short version = 3;
        MemorySegment frame = Frames.encodeResponse(11, ApiKey.API_VERSIONS, version, response,
                n -> Arena.ofAuto().allocate(n));
        ApiVersionsResponse back = (ApiVersionsResponse) Frames.readResponse(body(frame), ApiKey.API_VERSIONS, version, 11);

        assertEquals(9, back.finalizedFeaturesEpoch());
        assertEquals(true, back.zkMigrationReady());
        assertEquals(response.unknownTaggedFields(), back.unknownTaggedFields());
    }
}
