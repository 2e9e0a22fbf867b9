package kiri.storage.log;

import java.nio.file.Path;
import java.util.function.Function;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.StorageException;

/** Reads a metadata file through a {@link MetaCodec} decoder, naming the file when it is corrupt. */
final class MetaFiles {
    private MetaFiles() {}

    /**
     * The decoded content of {@code file}, or null if there is none.
     *
     * @throws StorageException KAFKA_STORAGE_ERROR, "PATH is corrupt at byte N (cause)"
     */
    static <T> T read(Path file, Function<byte[], T> decoder) {
        byte[] content = AtomicFiles.read(file);
        return content == null ? null : decode(file, content, decoder);
    }

    static <T> T decode(Path file, byte[] content, Function<byte[], T> decoder) {
        try {
            return decoder.apply(content);
        } catch (CorruptMetadataException e) {
            throw new StorageException(ErrorCodes.KAFKA_STORAGE_ERROR, file + " is " + e.getMessage(), e);
        }
    }
}
