package kiri.storage.api;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A failure an engine reports with a Kafka error code (see {@link ErrorCodes}); the router copies
 * {@link #errorCode()} into the response and, where the protocol has one, {@link #getMessage()}
 * into the error message field. Engines complete stages exceptionally with it (or throw it from
 * synchronous helpers); anything else reaching the router is reported as UNKNOWN_SERVER_ERROR.
 *
 * <p>No stack trace is captured: these are expected outcomes (unknown topic, fenced producer), on
 * paths where filling in a stack per failure would cost more than the operation itself.
 */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final short errorCode;

    public StorageException(short errorCode, String message) {
        this(errorCode, message, null);
    }

    /** With a cause (e.g. an {@code IOException} behind KAFKA_STORAGE_ERROR), which keeps its own trace. */
    public StorageException(short errorCode, String message, Throwable cause) {
        super(message, cause, true, false);
        this.errorCode = errorCode;
    }

    /** The Kafka error code, never {@link ErrorCodes#NONE}. */
    public short errorCode() {
        return errorCode;
    }

    /**
     * The Kafka error code for a failure seen by a stage callback: unwraps {@link CompletionException}
     * and {@link ExecutionException}; a {@link StorageException} gives its code, anything else
     * UNKNOWN_SERVER_ERROR, and {@code null} gives NONE.
     */
    public static short errorCodeOf(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t == null) return ErrorCodes.NONE;
        return t instanceof StorageException se ? se.errorCode : ErrorCodes.UNKNOWN_SERVER_ERROR;
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
        return ErrorCodes.name(errorCode) + ": " + getMessage();
    }
}
