package kiri.client;

import kiri.protocol.ErrorCode;

/** A request failed: a Kafka error code from the broker (see {@link #error()}), or a client-side problem. */
public class ClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ErrorCode error;

    public ClientException(String message) {
        this(message, null, null);
    }

    public ClientException(String message, Throwable cause) {
        this(message, null, cause);
    }

    public ClientException(String message, ErrorCode error, Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    /** The broker's error for this failure, or null for client-side failures (I/O, timeouts, usage). */
    public ErrorCode error() {
        return error;
    }

    /** Throws a {@link ClientException} naming {@code what} if {@code code} is an error. */
    public static void check(short code, String message, String what) {
        if (code != 0) {
            throw of(code, message, what);
        }
    }

    public static ClientException of(short code, String message, String what) {
        ErrorCode e = ErrorCode.isKnown(code) ? ErrorCode.forCode(code) : ErrorCode.UNKNOWN_SERVER_ERROR;
        String detail = message != null && !message.isBlank() ? message : e.message();
        return new ClientException(what + ": " + e.name() + " (" + detail + ")", e, null);
    }
}
