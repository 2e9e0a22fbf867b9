package kiri.router;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import kiri.protocol.message.ApiKey;

/**
 * The per-API timing layer: request counts, failures and total handler time, cheap enough for
 * the hot path (striped adders, no locks). Later feeds the metrics endpoint.
 */
public final class ApiMetrics implements Layer {
    /** Counters of one API. */
    public static final class Counters {
        final LongAdder requests = new LongAdder();
        final LongAdder failures = new LongAdder();
        final LongAdder nanos = new LongAdder();

        public long requests() {
            return requests.sum();
        }

        public long failures() {
            return failures.sum();
        }

        public long totalNanos() {
            return nanos.sum();
        }
    }

    private final Map<ApiKey, Counters> counters = new EnumMap<>(ApiKey.class);

    public ApiMetrics() {
        for (ApiKey k : ApiKey.values()) {
            counters.put(k, new Counters());
        }
    }

    public Counters of(ApiKey api) {
        return counters.get(api);
    }

    @Override
    public Handler wrap(ApiKey api, Handler next) {
        Counters c = counters.get(api);
        return (context, request) -> {
            long start = System.nanoTime();
            c.requests.increment();
            CompletionStage<? extends kiri.protocol.ApiMessage> stage = next.handle(context, request);
            return stage.whenComplete((response, failure) -> {
                c.nanos.add(System.nanoTime() - start);
                if (failure != null) {
                    c.failures.increment();
                }
            });
        };
    }
}
