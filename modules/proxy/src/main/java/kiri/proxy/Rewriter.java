package kiri.proxy;

import java.lang.foreign.MemorySegment;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import kiri.protocol.ApiMessage;
import kiri.protocol.BigEndian;
import kiri.protocol.Frames;
import kiri.protocol.ProtocolException;
import kiri.protocol.WireReader;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsResponse;
import kiri.protocol.message.DescribeClusterResponse;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.FindCoordinatorResponse;
import kiri.protocol.message.MetadataResponse;
import kiri.protocol.message.ProduceResponse;
import kiri.protocol.message.ResponseHeader;
import kiri.protocol.message.ShareAcknowledgeResponse;
import kiri.protocol.message.ShareFetchResponse;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;

/**
 * Rewrites the responses that carry broker addresses so clients keep talking to the proxy:
 * Metadata (brokers), FindCoordinator (the coordinator, or each batched coordinator from v4),
 * DescribeCluster (brokers), and the new-leader hints (KIP-951 {@code NodeEndpoints}) of Produce
 * v10+, Fetch v16+, ShareFetch and ShareAcknowledge. Those hints come only with leadership errors,
 * so such responses are decoded (record data stays a view, never copied) and re-encoded only when
 * they carry one. ApiVersions is capped to the versions of these APIs this codec can decode, so a
 * newer origin cannot lead a client to a version the proxy would have to pass through unrewritten.
 * Every other response passes through untouched, undecoded.
 */
final class Rewriter {
    /** Where clients should connect for an origin broker; creates the proxy listener if needed. */
    @FunctionalInterface
    interface AddressMap {
        /** The advertised proxy endpoint for origin broker {@code nodeId} at {@code host:port}. */
        Endpoint advertise(int nodeId, String host, int port);
    }

    private Rewriter() {
    }

    /** True for the responses {@link #rewrite} may change; the rest need no look at all. */
    static boolean rewrites(short apiKey, short version) {
        ApiKey api = ApiKey.forId(apiKey);
        return api != null && switch (api) {
            case METADATA, FIND_COORDINATOR, DESCRIBE_CLUSTER, API_VERSIONS, SHARE_FETCH, SHARE_ACKNOWLEDGE -> true;
            case PRODUCE -> version >= 10;
            case FETCH -> version >= 16;
            default -> false;
        };
    }

    /**
     * The rewritten response frame (with its size prefix, from {@code pool}), or {@code null} if the
     * response passes through as it is.
     *
     * @param response the response frame without its size prefix
     * @throws ProtocolException if a response that names brokers cannot be decoded (passing it on
     *     would send the client to the origin directly)
     */
    static Buffer rewrite(short apiKey, short version, MemorySegment response, AddressMap map, BufferPool pool) {
        ApiKey api = ApiKey.forId(apiKey);
        if (api == null || !rewrites(apiKey, version)) {
            return null;
        }
        if (!api.isVersionSupported(version)) {
            if (api == ApiKey.API_VERSIONS) {
                return null; // the broker answers unknown ApiVersions versions in v0 with an error
            }
            throw new ProtocolException(api.title + " v" + version + " response cannot be rewritten");
        }
        WireReader r = new WireReader(response);
        ResponseHeader header = ResponseHeader.read(r, api.responseHeaderVersion(version));
        if (api == ApiKey.API_VERSIONS && (r.remaining() < 2 || response.get(BigEndian.SHORT, r.position()) != 0)) {
            return null; // error responses (e.g. UNSUPPORTED_VERSION) are written at v0
        }
        ApiMessage body = api.readResponse(r, version);
        boolean changed = switch (body) {
            case MetadataResponse m -> metadata(m, map);
            case FindCoordinatorResponse f -> findCoordinator(f, version, map);
            case DescribeClusterResponse d -> describeCluster(d, map);
            case ApiVersionsResponse v -> capVersions(v);
            case ProduceResponse p -> leaderHints(p.nodeEndpoints(), ProduceResponse.NodeEndpoint::nodeId,
                    ProduceResponse.NodeEndpoint::host, ProduceResponse.NodeEndpoint::port,
                    (e, to) -> e.setHost(to.host()).setPort(to.port()), map);
            case FetchResponse f -> leaderHints(f.nodeEndpoints(), FetchResponse.NodeEndpoint::nodeId,
                    FetchResponse.NodeEndpoint::host, FetchResponse.NodeEndpoint::port,
                    (e, to) -> e.setHost(to.host()).setPort(to.port()), map);
            case ShareFetchResponse f -> leaderHints(f.nodeEndpoints(), ShareFetchResponse.NodeEndpoint::nodeId,
                    ShareFetchResponse.NodeEndpoint::host, ShareFetchResponse.NodeEndpoint::port,
                    (e, to) -> e.setHost(to.host()).setPort(to.port()), map);
            case ShareAcknowledgeResponse a -> leaderHints(a.nodeEndpoints(),
                    ShareAcknowledgeResponse.NodeEndpoint::nodeId, ShareAcknowledgeResponse.NodeEndpoint::host,
                    ShareAcknowledgeResponse.NodeEndpoint::port, (e, to) -> e.setHost(to.host()).setPort(to.port()), map);
            default -> false;
        };
        if (!changed) {
            return null;
        }
        Buffer[] out = new Buffer[1];
        try {
            Frames.encodeResponse(header.correlationId(), api, version, body, size -> {
                out[0] = pool.acquire(size);
                return out[0].segment();
            });
        } catch (RuntimeException e) {
            if (out[0] != null) {
                out[0].close();
            }
            throw e;
        }
        return out[0];
    }

    private static boolean metadata(MetadataResponse m, AddressMap map) {
        boolean changed = false;
        for (var b : m.brokers()) {
            Endpoint e = map.advertise(b.nodeId(), b.host(), b.port());
            if (e != null) {
                b.setHost(e.host()).setPort(e.port());
                changed = true;
            }
        }
        return changed;
    }

    private static boolean findCoordinator(FindCoordinatorResponse f, short version, AddressMap map) {
        if (version < 4) {
            if (f.errorCode() != 0 || f.nodeId() < 0) {
                return false;
            }
            Endpoint e = map.advertise(f.nodeId(), f.host(), f.port());
            if (e == null) {
                return false;
            }
            f.setHost(e.host()).setPort(e.port());
            return true;
        }
        boolean changed = false;
        for (var c : f.coordinators()) {
            if (c.errorCode() == 0 && c.nodeId() >= 0) {
                Endpoint e = map.advertise(c.nodeId(), c.host(), c.port());
                if (e != null) {
                    c.setHost(e.host()).setPort(e.port());
                    changed = true;
                }
            }
        }
        return changed;
    }

    private static boolean describeCluster(DescribeClusterResponse d, AddressMap map) {
        boolean changed = false;
        for (var b : d.brokers()) {
            Endpoint e = map.advertise(b.brokerId(), b.host(), b.port());
            if (e != null) {
                b.setHost(e.host()).setPort(e.port());
                changed = true;
            }
        }
        return changed;
    }

    /** KIP-951 new-leader hints: the same rewrite for the four generated NodeEndpoint types. */
    private static <E> boolean leaderHints(java.util.List<E> endpoints, ToIntFunction<E> nodeId,
            Function<E, String> host, ToIntFunction<E> port, BiConsumer<E, Endpoint> set, AddressMap map) {
        boolean changed = false;
        for (E e : endpoints) {
            Endpoint to = map.advertise(nodeId.applyAsInt(e), host.apply(e), port.applyAsInt(e));
            if (to != null) {
                set.accept(e, to);
                changed = true;
            }
        }
        return changed;
    }

    private static boolean capVersions(ApiVersionsResponse v) {
        boolean changed = false;
        for (var k : v.apiKeys()) {
            ApiKey api = ApiKey.forId(k.apiKey());
            if (api != null && api != ApiKey.API_VERSIONS && rewrites(k.apiKey(), k.maxVersion())
                    && k.maxVersion() > api.highestVersion) {
                k.setMaxVersion(api.highestVersion);
                changed = true;
            }
        }
        return changed;
    }
}
