package kiri.storage.api;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import kiri.protocol.ErrorCode;

/**
 * A failure an engine reports with a Kafka {@link ErrorCode}; the router copies {@link #errorCode()}
 * into the response and, where the protocol has one, {@link #getMessage()} into the error message
 * field. Engines complete stages exceptionally with it (or throw it from synchronous helpers);
 * anything else reaching the router is reported as UNKNOWN_SERVER_ERROR.
 *
 * <p>No stack trace is captured: these are expected outcomes (unknown topic, fenced producer), on
 * paths where filling in a stack per failure would cost more than the operation itself.
 */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode error;

    public StorageException(ErrorCode error, String message) {
        this(error, message, null);
    }

    /** With a cause (e.g. an {@code IOException} behind KAFKA_STORAGE_ERROR), which keeps its own trace. */
    public StorageException(ErrorCode error, String message, Throwable cause) {
        super(message, cause, true, false);
        this.error = error;
    }

    /** The Kafka error, never {@link ErrorCode#NONE}. */
    public ErrorCode error() {
        return error;
    }

    /** The error's wire code, as response fields take it. */
    public short errorCode() {
        return error.code();
    }

    /**
     * The Kafka error code for a failure seen by a stage callback: unwraps {@link CompletionException}
     * and {@link ExecutionException}; a {@link StorageException} gives its code, anything else
     * UNKNOWN_SERVER_ERROR, and {@code null} gives NONE.
     */
    public static short errorCodeOf(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t == null) return ErrorCode.NONE.code();
        return t instanceof StorageException se ? se.errorCode() : ErrorCode.UNKNOWN_SERVER_ERROR.code();
    }

    /** Strips {@link CompletionException} / {@link ExecutionException} wrappers. */
    public static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    @Override
    public String toString() {
        return error.name() + ": " + getMessage();
    }
}
