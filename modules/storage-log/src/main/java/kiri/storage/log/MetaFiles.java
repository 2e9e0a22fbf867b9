package kiri.storage.log;

import java.nio.file.Path;
import java.util.function.Function;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;

/**
 * Reads a metadata file through a {@link MetaCodec} decoder: the one place that reports an unreadable metadata file
 * (cluster, producer ids, per-topic files, the legacy {@code topics.meta}, group and transaction files, log starts,
 * accepted gaps, the clean-shutdown marker, credentials and ACLs), with one line naming the file: "PATH is corrupt at byte N (cause)" or
 * "PATH has metadata format version V, which is not supported (...)". Any thread.
 */
final class MetaFiles {
    private MetaFiles() {}

    /**
     * The decoded content of {@code file}, or null if there is none.
     *
     * @throws StorageException KAFKA_STORAGE_ERROR naming the file, if it cannot be decoded
     */
    static <T> T read(Path file, Function<byte[], T> decoder) {
        byte[] content = AtomicFiles.read(file);
        return content == null ? null : decode(file, content, decoder);
    }

    /** As {@link #read}, for content already read. */
    static <T> T decode(Path file, byte[] content, Function<byte[], T> decoder) {
        try {
            return decoder.apply(content);
        } catch (CorruptMetadataException e) {
            throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, file + " " + e.getMessage(), e);
        }
    }
}
