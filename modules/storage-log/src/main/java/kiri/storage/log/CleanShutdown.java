package kiri.storage.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The clean-shutdown marker ({@code PATH/.kiri_cleanshutdown}, as Kafka's {@code .kafka_cleanshutdown}): written once a
 * close has trimmed and forced every segment, removed once an open has recovered every partition and before anything
 * is written. Present at open means no write can have been torn since: recovery then skips the CRC scan of the last
 * segments and treats anything odd as damage rather than as a crash's torn tail.
 *
 * <p>The marker is removed only after a successful open, so an open that refuses (damage found) leaves the next one
 * judging the files exactly the same way.
 */
final class CleanShutdown {
    private CleanShutdown() {}

    static final String FILE = ".kiri_cleanshutdown";
    private static final System.Logger LOG = System.getLogger("kiri.storage.log");

    static boolean wasClean(Path root) {
        return Files.exists(root.resolve(FILE));
    }

    /** After a successful open, before the first write: from now on a crash must count as unclean. */
    static void clear(Path root) {
        AtomicFiles.delete(root.resolve(FILE));
    }

    /** After a close that forced everything. A failure (a full disk) only costs the next open a CRC scan. */
    static void mark(Path root) {
        try {
            Files.deleteIfExists(root.resolve(FILE + AtomicFiles.TMP_SUFFIX));
            AtomicFiles.write(root.resolve(FILE), new byte[0]);
        } catch (RuntimeException | IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write the clean-shutdown marker in " + root
                    + " (the next open will check the last segments' CRCs): " + e.getMessage());
        }
    }
}
