package kiri.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import kiri.protocol.ApiMessage;
import kiri.protocol.BigEndian;
import kiri.protocol.Frames;
import kiri.protocol.ProtocolException;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsResponse;
import kiri.protocol.message.DescribeClusterResponse;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.FindCoordinatorResponse;
import kiri.protocol.message.MetadataResponse;
import kiri.protocol.message.ProduceResponse;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every version of the responses that name brokers comes out pointing at the proxy, all else intact. */
class RewriterTest {
    private static final BufferPool POOL = new BufferPool();
    private static final int CORRELATION_ID = 4242;
    /** Origin broker n is advertised by the proxy as proxy-host:(20000 + n). */
    private final List<String> seen = new ArrayList<>();
    private final Rewriter.AddressMap map = (nodeId, host, port) -> {
        seen.add(nodeId + "@" + host + ":" + port);
        return new Endpoint("proxy-host", 20_000 + nodeId);
    };

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    /** Encodes {@code body} as the origin would, rewrites it, decodes what the client would get. */
    private ApiMessage roundTrip(ApiKey api, short version, ApiMessage body) {
        MemorySegment encoded = Frames.encodeResponse(CORRELATION_ID, api, version, body, Arena.ofAuto()::allocate);
        MemorySegment frame = encoded.asSlice(4); // as ClientConnection hands it over: no size prefix
        try (Buffer out = Rewriter.rewrite(api.id, version, frame, map, POOL)) {
            if (out == null) {
                return null;
            }
            MemorySegment s = out.segment();
            assertEquals(s.byteSize() - 4, s.get(BigEndian.INT, 0), "size prefix");
            return Frames.readResponse(s.asSlice(4), api, version, CORRELATION_ID);
        }
    }

    @Test
    void metadataBrokersPointAtTheProxyInEveryVersion() {
        for (short v = ApiKey.METADATA.lowestVersion; v <= ApiKey.METADATA.highestVersion; v++) {
            seen.clear();
            MetadataResponse m = new MetadataResponse().setControllerId(2);
            m.brokers().add(new MetadataResponse.MetadataResponseBroker().setNodeId(1).setHost("origin-a").setPort(9092));
            m.brokers().add(new MetadataResponse.MetadataResponseBroker().setNodeId(2).setHost("origin-b").setPort(9093)
                    .setRack("r2"));
            m.topics().add(new MetadataResponse.MetadataResponseTopic().setName("t"));
            MetadataResponse out = (MetadataResponse) roundTrip(ApiKey.METADATA, v, m);
            assertEquals(List.of("1@origin-a:9092", "2@origin-b:9093"), seen, "v" + v);
            assertEquals("proxy-host", out.brokers().get(0).host(), "v" + v);
            assertEquals(20_001, out.brokers().get(0).port(), "v" + v);
            assertEquals(20_002, out.brokers().get(1).port(), "v" + v);
            assertEquals(2, out.brokers().get(1).nodeId(), "v" + v);
            assertEquals(m.topics(), out.topics(), "topics untouched at v" + v);
            if (v >= 1) {
                assertEquals("r2", out.brokers().get(1).rack());
                assertEquals(2, out.controllerId());
            }
        }
    }

    @Test
    void findCoordinatorSingleAndBatchedInEveryVersion() {
        for (short v = ApiKey.FIND_COORDINATOR.lowestVersion; v <= ApiKey.FIND_COORDINATOR.highestVersion; v++) {
            seen.clear();
            FindCoordinatorResponse f = new FindCoordinatorResponse();
            if (v < 4) {
                f.setNodeId(3).setHost("origin-c").setPort(9094);
            } else {
                f.coordinators().add(new FindCoordinatorResponse.Coordinator().setKey("g1").setNodeId(3)
                        .setHost("origin-c").setPort(9094));
                f.coordinators().add(new FindCoordinatorResponse.Coordinator().setKey("g2").setNodeId(-1)
                        .setHost("").setPort(-1).setErrorCode((short) 15)); // COORDINATOR_NOT_AVAILABLE
                f.coordinators().add(new FindCoordinatorResponse.Coordinator().setKey("g3").setNodeId(4)
                        .setHost("origin-d").setPort(9095));
            }
            FindCoordinatorResponse out = (FindCoordinatorResponse) roundTrip(ApiKey.FIND_COORDINATOR, v, f);
            if (v < 4) {
                assertEquals(List.of("3@origin-c:9094"), seen, "v" + v);
                assertEquals("proxy-host", out.host());
                assertEquals(20_003, out.port());
                assertEquals(3, out.nodeId());
            } else {
                assertEquals(List.of("3@origin-c:9094", "4@origin-d:9095"), seen, "v" + v);
                assertEquals(20_003, out.coordinators().get(0).port());
                assertEquals("g1", out.coordinators().get(0).key());
                assertEquals(-1, out.coordinators().get(1).port(), "errors stay as they are");
                assertEquals(15, out.coordinators().get(1).errorCode());
                assertEquals(20_004, out.coordinators().get(2).port());
                assertEquals("proxy-host", out.coordinators().get(2).host());
            }
        }
    }

    @Test
    void findCoordinatorErrorPassesThrough() {
        FindCoordinatorResponse f = new FindCoordinatorResponse().setErrorCode((short) 15).setNodeId(-1).setHost("")
                .setPort(-1);
        assertNull(roundTrip(ApiKey.FIND_COORDINATOR, (short) 3, f), "nothing to rewrite: bytes pass through");
        assertEquals(List.of(), seen);
    }

    @Test
    void describeClusterBrokersPointAtTheProxyInEveryVersion() {
        for (short v = ApiKey.DESCRIBE_CLUSTER.lowestVersion; v <= ApiKey.DESCRIBE_CLUSTER.highestVersion; v++) {
            DescribeClusterResponse d = new DescribeClusterResponse().setClusterId("c1").setControllerId(5);
            d.brokers().add(new DescribeClusterResponse.DescribeClusterBroker().setBrokerId(5).setHost("origin-e")
                    .setPort(9096));
            DescribeClusterResponse out = (DescribeClusterResponse) roundTrip(ApiKey.DESCRIBE_CLUSTER, v, d);
            assertEquals("proxy-host", out.brokers().get(0).host(), "v" + v);
            assertEquals(20_005, out.brokers().get(0).port(), "v" + v);
            assertEquals("c1", out.clusterId());
        }
    }

    @Test
    void apiVersionsAreCappedToWhatTheProxyCanRewrite() {
        ApiVersionsResponse r = new ApiVersionsResponse();
        r.apiKeys().add(new ApiVersionsResponse.ApiVersion().setApiKey(ApiKey.PRODUCE.id).setMinVersion((short) 3)
                .setMaxVersion((short) 99));
        r.apiKeys().add(new ApiVersionsResponse.ApiVersion().setApiKey(ApiKey.METADATA.id).setMinVersion((short) 0)
                .setMaxVersion((short) 99));
        r.apiKeys().add(new ApiVersionsResponse.ApiVersion().setApiKey(ApiKey.LIST_OFFSETS.id).setMinVersion((short) 1)
                .setMaxVersion((short) 99));
        ApiVersionsResponse out = (ApiVersionsResponse) roundTrip(ApiKey.API_VERSIONS, (short) 3, r);
        assertEquals(ApiKey.PRODUCE.highestVersion, out.apiKeys().get(0).maxVersion(), "produce carries leader hints");
        assertEquals(99, out.apiKeys().get(2).maxVersion(), "pass-through APIs keep the origin's range");
        assertEquals(ApiKey.METADATA.highestVersion, out.apiKeys().get(1).maxVersion());

        ApiVersionsResponse fine = new ApiVersionsResponse();
        fine.apiKeys().add(new ApiVersionsResponse.ApiVersion().setApiKey(ApiKey.METADATA.id).setMaxVersion((short) 12));
        assertNull(roundTrip(ApiKey.API_VERSIONS, (short) 3, fine), "nothing to cap: bytes pass through");
        ApiVersionsResponse error = new ApiVersionsResponse().setErrorCode((short) 35);
        assertNull(roundTrip(ApiKey.API_VERSIONS, (short) 0, error));
    }

    @Test
    void produceLeaderHintsPointAtTheProxy() {
        for (short v = 10; v <= ApiKey.PRODUCE.highestVersion; v++) {
            ProduceResponse p = new ProduceResponse();
            ProduceResponse.TopicProduceResponse t = v <= 12 // names until v12, topic ids from v13
                    ? new ProduceResponse.TopicProduceResponse().setName("t")
                    : new ProduceResponse.TopicProduceResponse().setTopicId(java.util.UUID.randomUUID());
            t.partitionResponses().add(new ProduceResponse.PartitionProduceResponse().setIndex(0).setErrorCode((short) 6)
                    .setCurrentLeader(new ProduceResponse.LeaderIdAndEpoch().setLeaderId(7).setLeaderEpoch(3)));
            p.responses().add(t);
            p.nodeEndpoints().add(new ProduceResponse.NodeEndpoint().setNodeId(7).setHost("origin-g").setPort(9097));
            ProduceResponse out = (ProduceResponse) roundTrip(ApiKey.PRODUCE, v, p);
            assertEquals(20_007, out.nodeEndpoints().get(0).port(), "v" + v);
            assertEquals("proxy-host", out.nodeEndpoints().get(0).host());
            assertEquals(p.responses(), out.responses(), "partition results untouched at v" + v);
        }
        ProduceResponse plain = new ProduceResponse();
        assertNull(roundTrip(ApiKey.PRODUCE, (short) 11, plain), "no hint: bytes pass through");
        assertNull(Rewriter.rewrite(ApiKey.PRODUCE.id, (short) 9, Arena.ofAuto().allocate(3), map, POOL),
                "before v10 there are no hints: not even decoded");
    }

    @Test
    void fetchLeaderHintsPointAtTheProxyAndRecordsSurvive() {
        byte[] records = new byte[300];
        new java.util.Random(1).nextBytes(records);
        for (short v = 16; v <= ApiKey.FETCH.highestVersion; v++) {
            FetchResponse f = new FetchResponse().setSessionId(12);
            FetchResponse.FetchableTopicResponse t = new FetchResponse.FetchableTopicResponse()
                    .setTopicId(java.util.UUID.randomUUID());
            t.partitions().add(new FetchResponse.PartitionData().setPartitionIndex(0).setHighWatermark(100)
                    .setRecords(MemorySegment.ofArray(records)));
            t.partitions().add(new FetchResponse.PartitionData().setPartitionIndex(1).setErrorCode((short) 6)
                    .setCurrentLeader(new FetchResponse.LeaderIdAndEpoch().setLeaderId(8).setLeaderEpoch(1)));
            f.responses().add(t);
            f.nodeEndpoints().add(new FetchResponse.NodeEndpoint().setNodeId(8).setHost("origin-h").setPort(9098));
            FetchResponse out = (FetchResponse) roundTrip(ApiKey.FETCH, v, f);
            assertEquals(20_008, out.nodeEndpoints().get(0).port(), "v" + v);
            MemorySegment got = out.responses().get(0).partitions().get(0).records().memory();
            assertEquals(-1, got.mismatch(MemorySegment.ofArray(records)), "record bytes intact at v" + v);
            assertEquals(12, out.sessionId());
        }
        FetchResponse plain = new FetchResponse().setSessionId(3);
        assertNull(roundTrip(ApiKey.FETCH, (short) 17, plain), "no hint: bytes pass through");
    }

    @Test
    void otherResponsesAreNotLookedAt() {
        MemorySegment garbage = Arena.ofAuto().allocate(3);
        assertNull(Rewriter.rewrite(ApiKey.PRODUCE.id, (short) 9, garbage, map, POOL));
        assertNull(Rewriter.rewrite(ApiKey.FETCH.id, (short) 15, garbage, map, POOL));
        assertNull(Rewriter.rewrite(ApiKey.LIST_OFFSETS.id, (short) 9, garbage, map, POOL));
        assertEquals(List.of(), seen);
    }

    @Test
    void undecodableMetadataIsAnErrorNotALeak() {
        MemorySegment garbage = Arena.ofAuto().allocate(6);
        assertThrows(ProtocolException.class, () -> Rewriter.rewrite(ApiKey.METADATA.id, (short) 12, garbage, map, POOL));
        assertThrows(ProtocolException.class, () -> Rewriter.rewrite(ApiKey.METADATA.id, (short) 99, garbage, map, POOL));
    }
}
