package kiri.router;

import java.lang.System.Logger.Level;
import kiri.protocol.message.ApiKey;

/** The request-logging layer: one DEBUG line per request and its outcome; nothing when DEBUG is off. */
public final class RequestLogging implements Layer {
    private static final System.Logger LOG = System.getLogger("kiri.requests");

    @Override
    public Handler wrap(ApiKey api, Handler next) {
        return (context, request) -> {
            if (!LOG.isLoggable(Level.DEBUG)) {
                return next.handle(context, request);
            }
            long start = System.nanoTime();
            return next.handle(context, request).whenComplete((response, failure) -> LOG.log(Level.DEBUG,
                    "{0} v{1} client={2} corr={3} conn={4}: {5} in {6} us", api.title, context.version(),
                    context.clientId(), context.correlationId(), context.connection().id(),
                    failure != null ? "failed: " + failure : response == null ? "no response" : "ok",
                    (System.nanoTime() - start) / 1000));
        };
    }
}
