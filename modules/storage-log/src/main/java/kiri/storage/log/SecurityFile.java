package kiri.storage.log;

import java.nio.file.Path;
import kiri.storage.api.SecurityState;

/**
 * {@code security.meta}: SCRAM credentials and ACLs ({@link MetaCodec#security}, with the CRC32C trailer of every
 * metadata file), replaced whole and crash-safely ({@link AtomicFiles}) on every change. Read once when the engine
 * opens, so a damaged file stops the open naming it ({@link MetaFiles}), and kept in memory, which changes only once
 * the file is written. Written on the metadata thread only; {@link #state} is readable from any thread.
 */
final class SecurityFile {
    static final String NAME = "security.meta";

    private final Path file;
    private volatile SecurityState state;

    SecurityFile(Path root) {
        this.file = root.resolve(NAME);
        SecurityState stored = MetaFiles.read(file, MetaCodec::security);
        this.state = stored == null ? SecurityState.EMPTY : stored;
    }

    SecurityState state() {
        return state;
    }

    void write(SecurityState next) {
        AtomicFiles.write(file, MetaCodec.security(next));
        state = next;
    }
}
