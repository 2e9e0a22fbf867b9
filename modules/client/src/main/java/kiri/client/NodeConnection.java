package kiri.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.Frames;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsRequest;
import kiri.protocol.message.ApiVersionsResponse;
import kiri.protocol.message.RequestHeader;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;
import kiri.transport.ClientConnection;

/**
 * One connection to one broker, with the API versions negotiated on connect: for each API the
 * highest version both this client and the broker support. Requests pipeline (the transport
 * writes them as they come and matches responses in order). Thread-safe.
 */
public final class NodeConnection implements AutoCloseable {
    /** A response whose body may hold views of {@link #frame()}: close the frame when done with the body. */
    public record Response(ApiMessage body, Buffer frame) implements AutoCloseable {
        @Override
        public void close() {
            frame.close();
        }
    }

    private final int nodeId;
    private final ClientConnection connection;
    private final BufferPool pool;
    private final String clientId;
    private final AtomicInteger correlation = new AtomicInteger();
    /** Negotiated version per api key id, -1 when there is none. */
    private final short[] versions = new short[ApiKey.values().length == 0 ? 0 : maxId() + 1];

    private NodeConnection(int nodeId, ClientConnection connection, BufferPool pool, String clientId) {
        this.nodeId = nodeId;
        this.connection = connection;
        this.pool = pool;
        this.clientId = clientId;
        java.util.Arrays.fill(versions, (short) -1);
    }

    private static int maxId() {
        int max = 0;
        for (ApiKey k : ApiKey.values()) {
            max = Math.max(max, k.id);
        }
        return max;
    }

    /** Connects and negotiates versions with ApiVersions; {@code nodeId} is -1 for a bootstrap address. */
    public static NodeConnection open(int nodeId, InetSocketAddress address, BufferPool pool, String clientId,
            Duration timeout) throws IOException {
        ClientConnection c = ClientConnection.connect(address, pool,
                ClientConnection.Options.defaults().withConnectTimeout(timeout));
        NodeConnection node = new NodeConnection(nodeId, c, pool, clientId);
        try {
            node.negotiate(timeout);
        } catch (RuntimeException | IOException e) {
            node.close();
            throw e;
        }
        return node;
    }

    private void negotiate(Duration timeout) throws IOException {
        // v3 is flexible and understood by Kafka >= 2.4 and by Kiri; every broker answers ApiVersions at v0..3.
        versions[ApiKey.API_VERSIONS.id] = 3;
        ApiVersionsRequest request = new ApiVersionsRequest().setClientSoftwareName("kiri")
                .setClientSoftwareVersion("0.1.0");
        ApiVersionsResponse response = (ApiVersionsResponse) await(send(ApiKey.API_VERSIONS, request), timeout);
        ClientException.check(response.errorCode(), null, "ApiVersions from " + connection.remoteAddress());
        versions[ApiKey.API_VERSIONS.id] = -1;
        for (ApiVersionsResponse.ApiVersion v : response.apiKeys()) {
            ApiKey api = ApiKey.forId(v.apiKey());
            if (api == null || api.highestVersion < 0) {
                continue;
            }
            short high = (short) Math.min(clientMax(api), v.maxVersion());
            short low = (short) Math.max(api.lowestVersion, v.minVersion());
            if (high >= low) {
                versions[api.id] = high;
            }
        }
    }

    /**
     * The newest version of each API this client speaks: the codec's newest, except where newer
     * versions identify topics by id only (Produce 13+, Fetch 13+, OffsetFetch and OffsetCommit 10+),
     * which this client does not track.
     */
    static short clientMax(ApiKey api) {
        return switch (api) {
            case PRODUCE, FETCH -> 12;
            case OFFSET_FETCH -> 9; // 10+: topic ids
            case OFFSET_COMMIT -> 9;
            default -> api.highestVersion;
        };
    }

    /** The negotiated version of {@code api}, or -1 if the broker and this client share none. */
    public short version(ApiKey api) {
        return versions[api.id];
    }

    public int nodeId() {
        return nodeId;
    }

    public InetSocketAddress address() {
        return connection.remoteAddress();
    }

    public boolean isOpen() {
        return connection.isOpen();
    }

    /** Sends a request at the negotiated version and decodes the response; the frame is released. */
    public CompletableFuture<ApiMessage> send(ApiKey api, ApiMessage body) {
        return sendRaw(api, body, true).thenApply(r -> {
            try (r) {
                return r.body();
            }
        });
    }

    /**
     * Sends a request; with {@code expectResponse=false} (produce with acks=0) the future completes
     * with null once written. The caller closes the returned {@link Response}.
     */
    public CompletableFuture<Response> sendRaw(ApiKey api, ApiMessage body, boolean expectResponse) {
        short version = versions[api.id];
        if (version < 0) {
            return CompletableFuture.failedFuture(new ClientException("broker " + address() + " does not support "
                    + api.title + " in a version this client speaks", ErrorCode.UNSUPPORTED_VERSION, null));
        }
        int correlationId = correlation.getAndIncrement();
        RequestHeader header = new RequestHeader().setRequestApiKey(api.id).setRequestApiVersion(version)
                .setCorrelationId(correlationId).setClientId(clientId);
        Buffer[] frame = new Buffer[1];
        try {
            Frames.encodeRequest(header, body, size -> (frame[0] = pool.acquire(size)).segment());
        } catch (RuntimeException e) {
            if (frame[0] != null) {
                frame[0].close();
            }
            return CompletableFuture.failedFuture(e);
        }
        return connection.send(frame[0], expectResponse).thenApply(buffer -> {
            if (buffer == null) {
                return null;
            }
            try {
                return new Response(Frames.readResponse(buffer.segment(), api, version, correlationId), buffer);
            } catch (RuntimeException e) {
                buffer.close();
                throw e;
            }
        });
    }

    /** Waits for a future, unwrapping failures into {@link ClientException} / {@link IOException}. */
    static <T> T await(CompletableFuture<T> future, Duration timeout) throws IOException {
        try {
            return future.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ClientException("request timed out after " + timeout.toMillis() + " ms", ErrorCode.REQUEST_TIMED_OUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException | CompletionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new ClientException(cause.toString(), cause);
        }
    }

    @Override
    public void close() {
        connection.close();
    }

    @Override
    public String toString() {
        return "node " + nodeId + " at " + address().getHostString() + ":" + address().getPort();
    }
}
