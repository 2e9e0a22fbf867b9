package kiri.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import kiri.protocol.ProtocolException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.Test;

/** The proxy reads acks from Produce requests as kafka-clients writes them, in every version. */
class RequestsTest {

    private static MemorySegment produce(short version, short acks, String transactionalId, String clientId) {
        ProduceRequestData data = new ProduceRequestData().setAcks(acks).setTimeoutMs(1000)
                .setTransactionalId(transactionalId);
        ByteBuffer b = new ProduceRequest.Builder(version, version, data).build(version)
                .serializeWithHeader(new RequestHeader(ApiKeys.PRODUCE, version, clientId, 77));
        return MemorySegment.ofBuffer(b);
    }

    @Test
    void acksZeroMeansNoResponseInEveryProduceVersion() {
        int checked = 0;
        for (short v = ApiKeys.PRODUCE.oldestVersion(); v <= ApiKeys.PRODUCE.latestVersion(); v++) {
            for (short acks : new short[] {0, 1, -1}) {
                for (String txId : new String[] {null, "", "a-transactional-id"}) {
                    for (String clientId : new String[] {null, "", "producer-1"}) {
                        MemorySegment frame = produce(v, acks, txId, clientId);
                        assertEquals(acks != 0, Requests.expectsResponse(frame),
                                "v" + v + " acks=" + acks + " txId=" + txId + " clientId=" + clientId);
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked >= 11 * 27, "versions 3-13 at least: " + checked);
    }

    @Test
    void otherRequestsAlwaysExpectAResponse() {
        ByteBuffer b = new ApiVersionsRequest.Builder().build((short) 3)
                .serializeWithHeader(new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "c", 1));
        MemorySegment frame = MemorySegment.ofBuffer(b);
        assertTrue(Requests.expectsResponse(frame));
        assertEquals(ApiKeys.API_VERSIONS.id, Requests.apiKey(frame));
        assertEquals(3, Requests.apiVersion(frame));
    }

    @Test
    void truncatedProduceIsAProtocolError() {
        MemorySegment frame = produce((short) 11, (short) 1, "tx", "client");
        assertThrows(ProtocolException.class, () -> Requests.expectsResponse(frame.asSlice(0, 14)));
    }
}
