package kiri.storage.log;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;

/** The one line an engine that cannot open says: "cannot open file:PATH: what, where and why" (its error code kept). */
final class OpenFailure {
    private OpenFailure() {}

    static StorageException of(Path root, RuntimeException e) {
        ErrorCode code = e instanceof StorageException se ? se.error() : ErrorCode.KAFKA_STORAGE_ERROR;
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        if (e instanceof UncheckedIOException u && u.getCause() != null && !why.contains(String.valueOf(u.getCause().getMessage()))) {
            why += ": " + u.getCause(); // "cannot recover t-0 in DIR: java.nio.file.AccessDeniedException: ..."
        }
        return new StorageException(code, "cannot open file:" + root + ": " + why, e);
    }
}
