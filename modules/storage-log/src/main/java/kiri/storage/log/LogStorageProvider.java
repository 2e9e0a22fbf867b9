package kiri.storage.log;

import java.nio.file.Path;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageProvider;
import kiri.storage.api.StorageUrl;

/**
 * The {@code file:PATH} engine: a durable append-only log per partition in a local directory.
 * Parameters: {@code fsync=always} (default; acknowledge after the batch is forced to disk, with group
 * commit), {@code fsync=never} (after write to the page cache) or {@code fsync=interval:MS}
 * (after write; files forced at least every MS); {@code preallocate=false} to write no zeros ahead of the active
 * segment's end (default true unless fsync=never: appends then overwrite written blocks, which makes forces cheaper);
 * {@code recover=truncate} to open a damaged log by cutting it at the damage (default {@code refuse}: the open fails
 * naming the file, byte and cause); the log cleaner's Kafka broker settings {@code log.cleaner.enable},
 * {@code log.cleaner.backoff.ms}, {@code log.cleaner.io.max.bytes.per.second} and {@code log.cleaner.dedupe.buffer.size}.
 * See the module README for the guarantees.
 */
public final class LogStorageProvider implements StorageProvider {

    @Override
    public String scheme() {
        return "file";
    }

    /** @throws IllegalArgumentException for an empty path, an unknown parameter or a bad fsync or preallocate value */
    @Override
    public Storage open(StorageUrl url, StorageContext context) {
        url.requireOnlyParams("fsync", "preallocate", RecoveryPolicy.PARAM, Cleaner.Settings.ENABLE, Cleaner.Settings.BACKOFF_MS,
                Cleaner.Settings.IO_MAX_BYTES_PER_SECOND, Cleaner.Settings.DEDUPE_BUFFER_SIZE);
        FsyncMode fsync = FsyncMode.parse(url.param("fsync", "always"));
        // the zeros only pay off where forces are: without them they are just extra writes
        String preallocateDefault = fsync instanceof FsyncMode.Never ? "false" : "true";
        boolean preallocate = switch (url.param("preallocate", preallocateDefault)) {
            case "true" -> true;
            case "false" -> false;
            case String other -> throw new IllegalArgumentException("preallocate=" + other + " is not one of true, false");
        };
        boolean truncate = switch (url.param(RecoveryPolicy.PARAM, "refuse")) {
            case "refuse" -> false;
            case "truncate" -> true;
            case String other -> throw new IllegalArgumentException(RecoveryPolicy.PARAM + "=" + other + " is not one of refuse, truncate");
        };
        if (url.location().isEmpty()) {
            throw new IllegalArgumentException("storage URL '" + url + "' has no directory; expected file:PATH, e.g. file:./kiri-data");
        }
        return new LogStorage(Path.of(url.location()).toAbsolutePath().normalize(), fsync, preallocate, truncate, context,
                Cleaner.Settings.of(url));
    }
}
