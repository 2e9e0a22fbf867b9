package kiri.router;

import kiri.protocol.message.ApiKey;

/**
 * Wraps handlers with behaviour common to many APIs (logging, timing, later authentication and
 * quotas). {@link #wrap} is called once per route when the router is built, never per request.
 */
@FunctionalInterface
public interface Layer {
    Handler wrap(ApiKey api, Handler next);
}
