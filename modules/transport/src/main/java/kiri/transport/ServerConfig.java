package kiri.transport;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a {@link Server} needs. Build with {@link #builder(RequestHandler)}; unset values take
 * the defaults below.
 *
 * @param bindAddress where to listen; port 0 picks an ephemeral port (see
 *     {@link Server#localAddress()})
 * @param handler called for every request frame
 * @param maxFrameSize largest accepted request frame, excluding its size prefix; a bigger (or
 *     negative) size closes the connection before anything is allocated. Default 100 MiB, Kafka's
 *     {@code socket.request.max.bytes}
 * @param maxQueuedRequestBytes bytes of request frames held at once across all connections, Kafka's
 *     {@code queued.max.request.bytes}: a connection whose next frame does not fit stops reading until requests
 *     in flight complete (a frame is always taken when none is held, so one above this limit is served alone);
 *     -1 for no limit (Kafka's default). Default 100 MiB ({@link #DEFAULT_MAX_QUEUED_REQUEST_BYTES})
 * @param maxInFlightPerConnection requests read but not yet answered (response not yet fully
 *     written) per connection; at the limit the connection stops reading, and resumes once half have
 *     drained. Default 64: Kafka clients pipeline at most 5 ({@code max.in.flight.requests.per.connection}),
 *     so real clients never hit it, while a pipelining perf tool gets enough depth to batch
 *     reads and writes, and one connection can pin at most 64 frames of memory
 * @param idleTimeout close connections with no traffic and nothing in flight for this long;
 *     {@link Duration#ZERO} disables. Default 10 min, Kafka's {@code connections.max.idle.ms}
 * @param eventLoops number of selector threads; default the number of available processors
 * @param shutdownTimeout how long {@link Server#close()} waits for in-flight requests before
 *     closing connections regardless. Default 10 s
 * @param pool buffer pool for request frames (and, via {@link ConnectionContext#pool()}, responses);
 *     {@code null} makes the server create one and close it on {@link Server#close()}
 * @param tls TLS for every connection, or {@code null} for plaintext
 * @param requestBudget the {@code queued.max.request.bytes} budget shared with other servers (a broker's listeners
 *     share one, as Kafka's); {@code null} makes the server keep its own of {@code maxQueuedRequestBytes} (which
 *     applies only then)
 */
public record ServerConfig(
        InetSocketAddress bindAddress,
        RequestHandler handler,
        int maxFrameSize,
        long maxQueuedRequestBytes,
        int maxInFlightPerConnection,
        Duration idleTimeout,
        int eventLoops,
        Duration shutdownTimeout,
        BufferPool pool,
        TlsConfig tls,
        RequestBudget requestBudget) {

    public static final int DEFAULT_PORT = 9092;
    public static final int DEFAULT_MAX_FRAME_SIZE = 100 * 1024 * 1024;
    /** 100 MiB: one largest frame at a time, or many ordinary ones; the off-heap memory requests can pin. */
    public static final long DEFAULT_MAX_QUEUED_REQUEST_BYTES = 100L * 1024 * 1024;
    public static final int DEFAULT_MAX_IN_FLIGHT = 64;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

    public ServerConfig {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        if (maxFrameSize < 0) {
            throw new IllegalArgumentException("maxFrameSize must be >= 0, got " + maxFrameSize);
        }
        if (maxQueuedRequestBytes < -1 || maxQueuedRequestBytes == 0) {
            throw new IllegalArgumentException("maxQueuedRequestBytes must be > 0 or -1, got " + maxQueuedRequestBytes);
        }
        if (maxInFlightPerConnection < 1) {
            throw new IllegalArgumentException("maxInFlightPerConnection must be >= 1, got " + maxInFlightPerConnection);
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idleTimeout must not be negative, got " + idleTimeout);
        }
        if (eventLoops < 1) {
            throw new IllegalArgumentException("eventLoops must be >= 1, got " + eventLoops);
        }
        if (shutdownTimeout.isNegative()) {
            throw new IllegalArgumentException("shutdownTimeout must not be negative, got " + shutdownTimeout);
        }
    }

    public static Builder builder(RequestHandler handler) {
        return new Builder(handler);
    }

    /** Mutable, single-threaded builder; defaults listen on all interfaces, port 9092. */
    public static final class Builder {
        private final RequestHandler handler;
        private InetSocketAddress bindAddress = new InetSocketAddress(DEFAULT_PORT);
        private int maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
        private long maxQueuedRequestBytes = DEFAULT_MAX_QUEUED_REQUEST_BYTES;
        private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private int eventLoops = Runtime.getRuntime().availableProcessors();
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private BufferPool pool;
        private TlsConfig tls;
        private RequestBudget requestBudget;

        private Builder(RequestHandler handler) {
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        /** Host name or literal address (resolved now; an unknown host fails {@link Server#start}). */
        public Builder bind(String host, int port) {
            this.bindAddress = new InetSocketAddress(host, port);
            return this;
        }

        public Builder bind(InetSocketAddress address) {
            this.bindAddress = address;
            return this;
        }

        public Builder maxFrameSize(int bytes) {
            this.maxFrameSize = bytes;
            return this;
        }

        /** Kafka's {@code queued.max.request.bytes}; -1 for no limit. */
        public Builder maxQueuedRequestBytes(long bytes) {
            this.maxQueuedRequestBytes = bytes;
            return this;
        }

        public Builder maxInFlightPerConnection(int requests) {
            this.maxInFlight = requests;
            return this;
        }

        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = timeout;
            return this;
        }

        public Builder eventLoops(int threads) {
            this.eventLoops = threads;
            return this;
        }

        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = timeout;
            return this;
        }

        public Builder pool(BufferPool pool) {
            this.pool = pool;
            return this;
        }

        /** TLS for every connection ({@code null}: plaintext, the default). */
        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        /** A {@code queued.max.request.bytes} budget shared with other servers ({@code null}: the server's own). */
        public Builder requestBudget(RequestBudget shared) {
            this.requestBudget = shared;
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(bindAddress, handler, maxFrameSize, maxQueuedRequestBytes, maxInFlight, idleTimeout,
                    eventLoops, shutdownTimeout, pool, tls, requestBudget);
        }
    }
}
