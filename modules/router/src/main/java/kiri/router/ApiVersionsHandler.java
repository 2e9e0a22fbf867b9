package kiri.router;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsResponse;

/** ApiVersions: derived from the route table, so only what is really handled is advertised. */
public final class ApiVersionsHandler implements Handler {
    private final Supplier<RouteTable> table;

    /** {@code table} is read per request so the handler can be part of the table it describes. */
    public ApiVersionsHandler(Supplier<RouteTable> table) {
        this.table = table;
    }

    @Override
    public CompletionStage<? extends ApiMessage> handle(RequestContext context, ApiMessage request) {
        return CompletableFuture.completedFuture(describe(table.get()));
    }

    static ApiVersionsResponse describe(RouteTable table) {
        ApiVersionsResponse response = new ApiVersionsResponse();
        for (RouteTable.Route r : table.routes()) {
            // Kafka 4 advertises Produce from v0 although it rejects v0-2: librdkafka (KAFKA-18659)
            // refuses to produce to a broker whose advertised minimum is above 0.
            short min = r.api() == ApiKey.PRODUCE ? 0 : r.minVersion();
            response.apiKeys().add(new ApiVersionsResponse.ApiVersion().setApiKey(r.api().id)
                    .setMinVersion(min).setMaxVersion(r.maxVersion()));
        }
        return response;
    }

    /** The answer to an ApiVersions request at a version we don't support: error, plus what we do. */
    static ApiVersionsResponse unsupportedVersion(RouteTable table) {
        return describe(table).setErrorCode(ErrorCode.UNSUPPORTED_VERSION.code());
    }
}
