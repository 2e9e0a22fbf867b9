package kiri.storage.log;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The clean-shutdown marker ({@code PATH/.kiri_cleanshutdown}, as Kafka's {@code .kafka_cleanshutdown}): written once a
 * close has trimmed and forced every segment, with each partition's end offset (so that a lost tail shows), removed
 * once an open has recovered every partition that holds anything and before anything is written (partitions opened
 * later keep the verdict in their {@link RecoveryPolicy}). Present at open means no write can have been torn since:
 * recovery then skips the CRC scan of the last segments and treats anything odd as damage rather than as a crash's
 * torn tail.
 *
 * <p>The marker is removed only after a successful open, so an open that refuses (damage found) leaves the next one
 * judging the files exactly the same way.
 */
final class CleanShutdown {
    private CleanShutdown() {}

    static final String FILE = ".kiri_cleanshutdown";
    private static final System.Logger LOG = System.getLogger("kiri.storage.log");

    /** Each partition directory's end offset at the last clean shutdown, or null if the last shutdown was not clean. */
    static Map<String, Long> ends(Path root) {
        return MetaFiles.read(root.resolve(FILE), MetaCodec::cleanShutdown);
    }

    /** After a successful open, before the first write: from now on a crash must count as unclean. */
    static void clear(Path root) {
        AtomicFiles.delete(root.resolve(FILE));
    }

    /** After a close that forced everything. A failure (a full disk) only costs the next open a CRC scan. */
    static void mark(Path root, Map<String, Long> ends) {
        try {
            Files.deleteIfExists(root.resolve(FILE + AtomicFiles.TMP_SUFFIX));
            AtomicFiles.write(root.resolve(FILE), MetaCodec.cleanShutdown(ends));
        } catch (RuntimeException | IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write the clean-shutdown marker in " + root
                    + " (the next open will check the last segments' CRCs): " + e.getMessage());
        }
    }
}
