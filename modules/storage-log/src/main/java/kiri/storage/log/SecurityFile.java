package kiri.storage.log;

import java.nio.file.Path;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.SecurityState;
import kiri.storage.api.StorageException;

/**
 * {@code security.meta}: SCRAM credentials and ACLs ({@link SecurityState#encode}), replaced whole and
 * crash-safely ({@link AtomicFiles}) on every change. Called on the metadata thread only.
 */
final class SecurityFile {
    static final String NAME = "security.meta";

    private final Path file;

    SecurityFile(Path root) {
        this.file = root.resolve(NAME);
    }

    SecurityState read() {
        byte[] stored = AtomicFiles.read(file);
        if (stored == null) {
            return SecurityState.EMPTY;
        }
        try {
            return SecurityState.decode(stored);
        } catch (IllegalArgumentException e) {
            throw new StorageException(ErrorCodes.KAFKA_STORAGE_ERROR, file + " is damaged: " + e.getMessage());
        }
    }

    void write(SecurityState state) {
        AtomicFiles.write(file, state.encode());
    }
}
