package kiri.router;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import kiri.metrics.Histogram;
import kiri.metrics.MetricWriter;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.ErrorCounter;
import kiri.protocol.message.ApiKey;

/**
 * The per-API metrics layer: request counts, latency histograms, and the error codes of responses (every
 * {@code ErrorCode} field, as Kafka's ErrorsPerSec counts them), plus the per-topic counters the handlers feed
 * ({@link #topics}). Cheap enough for the hot path: striped adders, no locks, no allocation per request beyond
 * the completion callback. Thread-safe.
 */
public final class ApiMetrics implements Layer {
    /** Error codes counted individually: Kafka's run from -1 to about 130. */
    private static final int MAX_CODE = 255;

    /** Counters of one API. */
    public static final class Counters implements ErrorCounter {
        final LongAdder requests = new LongAdder();
        final LongAdder failures = new LongAdder();
        final Histogram latency = Histogram.requestLatency();
        /** By error code + 1; created on an API's first error with that code. */
        private final AtomicReferenceArray<LongAdder> errors = new AtomicReferenceArray<>(MAX_CODE + 2);

        public long requests() {
            return requests.sum();
        }

        /** Requests whose handler failed (no response of its own; the client sees the connection's error). */
        public long failures() {
            return failures.sum();
        }

        /** Responses' error fields that carried {@code code} (not NONE). */
        public long errors(short code) {
            LongAdder a = code >= -1 && code <= MAX_CODE ? errors.get(code + 1) : null;
            return a == null ? 0 : a.sum();
        }

        @Override
        public void count(short code) {
            if (code == 0 || code < -1 || code > MAX_CODE) return;
            LongAdder a = errors.get(code + 1);
            if (a == null) {
                errors.compareAndSet(code + 1, null, new LongAdder());
                a = errors.get(code + 1);
            }
            a.increment();
        }
    }

    private final Map<ApiKey, Counters> counters = new EnumMap<>(ApiKey.class);
    private final TopicMetrics topics = new TopicMetrics();

    public ApiMetrics() {
        for (ApiKey k : ApiKey.values()) {
            counters.put(k, new Counters());
        }
    }

    public Counters of(ApiKey api) {
        return counters.get(api);
    }

    /** Bytes and records per topic, fed by the produce and fetch handlers. */
    public TopicMetrics topics() {
        return topics;
    }

    @Override
    public Handler wrap(ApiKey api, Handler next) {
        Counters c = counters.get(api);
        return (context, request) -> {
            long start = System.nanoTime();
            c.requests.increment();
            CompletionStage<? extends ApiMessage> stage = next.handle(context, request);
            return stage.whenComplete((response, failure) -> {
                c.latency.record(System.nanoTime() - start);
                if (failure != null) {
                    c.failures.increment();
                    c.count(ErrorCode.UNKNOWN_SERVER_ERROR.code());
                } else if (response != null) {
                    response.countErrors(c);
                }
            });
        };
    }

    /**
     * Writes the request, error and latency families; only APIs that saw requests appear, so the series stay
     * few (clients use a dozen APIs).
     */
    public void writeTo(MetricWriter w) {
        w.family("kiri_requests_total", "counter", "Requests handled, by API.");
        counters.forEach((api, c) -> {
            long n = c.requests.sum();
            if (n > 0) w.sample("kiri_requests_total", n, "api", api.title);
        });
        w.family("kiri_request_errors_total", "counter",
                "Error codes in responses (every ErrorCode field, as Kafka counts them), by API and error.");
        counters.forEach((api, c) -> {
            for (int i = 0; i < c.errors.length(); i++) {
                LongAdder a = c.errors.get(i);
                if (a != null) {
                    short code = (short) (i - 1);
                    String name = ErrorCode.isKnown(code) ? ErrorCode.forCode(code).name() : Short.toString(code);
                    w.sample("kiri_request_errors_total", a.sum(), "api", api.title, "error", name);
                }
            }
        });
        w.family("kiri_request_duration_seconds", "histogram",
                "Time from a request's decoding to its response (fetch includes its long-poll wait), by API.");
        counters.forEach((api, c) -> {
            if (c.requests.sum() > 0) c.latency.writeTo(w, "kiri_request_duration_seconds", 1e9, "api", api.title);
        });
    }
}
