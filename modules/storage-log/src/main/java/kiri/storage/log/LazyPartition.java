package kiri.storage.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import kiri.storage.api.ErrorCodes;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;

/**
 * A partition whose {@link PartitionLog} (directory, segment file, index mappings) is opened on first use, so
 * that creating a topic writes only its metadata file and a broker with many idle partitions holds no descriptor
 * or mapping for them. On open, the engine opens at once every partition that has data ({@link #hasData}):
 * recovery must see those (torn tails, producer state, transactions to adopt); the rest stay closed until a
 * produce, fetch or offset lookup touches them.
 *
 * <p>An open that fails (out of descriptors, disk full) closes what it opened and removes the directory if it
 * created it; the partition stays unopened and the next use tries again.
 *
 * <p>Threading: any thread may call {@link #log}; opening, config changes, closing and deleting take this object's
 * monitor, so a partition is opened once, never after {@link #close} or {@link #delete}, and with the latest config.
 */
final class LazyPartition {
    /** How a partition's log is opened (the engine's settings). */
    interface Opener {
        PartitionLog open(TopicPartition tp, Path dir, LogConfig config);
    }

    final TopicPartition tp;
    final Path dir;
    private final Opener opener;
    private volatile LogConfig config;
    private volatile PartitionLog log;
    /** Deleted (topic deletion) or closed (engine close): never opens again. Guarded by this. */
    private boolean gone;

    LazyPartition(TopicPartition tp, Path dir, LogConfig config, Opener opener) {
        this.tp = tp;
        this.dir = dir;
        this.config = config;
        this.opener = opener;
    }

    /** The open log, opening it first if needed. @throws StorageException if it is gone or cannot be opened */
    PartitionLog log() {
        PartitionLog l = log;
        return l != null ? l : open();
    }

    /** The log if it is open, else null (for sweeps over every partition that must not open idle ones). */
    PartitionLog ifOpen() {
        return log;
    }

    private synchronized PartitionLog open() {
        if (log != null) return log;
        if (gone) throw new StorageException(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition: " + tp);
        boolean existed = Files.exists(dir);
        try {
            log = opener.open(tp, dir, config);
            return log;
        } catch (RuntimeException e) {
            if (!existed) removeCreated();
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            String why = root == e ? e.getMessage() : e.getMessage() + ": " + root.getMessage();
            throw new StorageException(ErrorCodes.KAFKA_STORAGE_ERROR, "cannot open " + tp + ": " + why, e);
        }
    }

    /**
     * Removes the directory a failed first open created. Out of descriptors, listing it would fail too, so an empty
     * one (the usual case: the failure came before or while creating the segment, whose files it then closed) is
     * removed with one rmdir, which needs none.
     */
    private void removeCreated() {
        try {
            Files.deleteIfExists(dir);
        } catch (DirectoryNotEmptyException e) {
            try {
                AtomicFiles.deleteRecursively(dir);
            } catch (UncheckedIOException ignored) {
                // an empty partition's leftovers: the next open of the partition reuses them
            }
        } catch (IOException ignored) {
            // as above
        }
    }

    /** A topic config change; waits for an open in progress, which used the config of before. */
    synchronized void config(LogConfig c) {
        config = c;
        PartitionLog l = log;
        if (l != null) l.config = c;
    }

    /** Engine close: closes the log if it was opened; later uses fail. */
    synchronized void close() {
        gone = true;
        if (log != null) log.close();
    }

    /** Topic deletion: deletes the log and its directory, opened or not. */
    synchronized void delete() {
        gone = true;
        if (log != null) log.delete();
        else AtomicFiles.deleteRecursively(dir);
    }

    /**
     * Whether {@code dir} holds anything recovery must look at: more than one segment, or a segment file that is
     * not empty (batches, or the zeros a crash leaves after them). A missing directory, or one whose only segment
     * is empty (a cleanly closed idle partition), has none.
     */
    static boolean hasData(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        int logs = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.log")) {
            for (Path f : entries) {
                if (++logs > 1 || Files.size(f) > 0) return true;
            }
        } catch (IOException e) {
            return true; // let recovery open it and report what is wrong
        }
        return false;
    }
}
