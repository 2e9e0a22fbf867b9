package kiri.storage.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicPartition;

/**
 * A partition whose {@link PartitionLog} (directory, segment file, index mappings) is opened on first use, so
 * that creating a topic writes only its metadata file and a broker with many idle partitions holds no descriptor
 * or mapping for them. On open, the engine opens at once every partition that recovery has anything to do for
 * ({@link #needsRecovery}: data, with its torn tails, producer state and transactions to adopt; damage to refuse);
 * the rest stay closed until a produce, fetch or offset lookup touches them, and are then recovered under the policy
 * the engine decided at its open ({@link RecoveryPolicy}).
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
        if (gone) throw new StorageException(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition: " + tp);
        boolean existed = Files.exists(dir);
        try {
            log = opener.open(tp, dir, config);
            return log;
        } catch (RuntimeException e) {
            if (!existed) removeCreated();
            if (e instanceof StorageException se) throw se; // recovery's refusal, a corrupt file: already one line naming it
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            String why = root == e ? e.getMessage() : e.getMessage() + ": " + root.getMessage();
            throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "cannot open " + tp + ": " + why, e);
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

    /** Engine close: closes the log if it was opened; later uses fail. True unless closing the log left something unforced. */
    synchronized boolean close() {
        gone = true;
        return log == null || log.close();
    }

    /** Topic deletion: deletes the log and its directory, opened or not. */
    synchronized void delete() {
        gone = true;
        if (log != null) log.delete();
        else AtomicFiles.deleteRecursively(dir);
    }

    /**
     * Whether the engine must open (recover) the partition in {@code dir} at startup instead of on first use: whether
     * recovery could find anything there to cut, rebuild or refuse. That is anything but one empty segment (its
     * {@code .log}, {@code .index}, {@code .timeindex}): batches, the zeros a crash leaves after them, more segments, an
     * index whose log is gone, {@code log-start}, {@code accepted-gaps}, a stray file; or a log that ends before
     * {@code recordedEnd}, the partition's end offset at the last clean shutdown ({@code -1} if none recorded), which
     * recovery must refuse at open rather than at the first produce. A missing directory ends at 0.
     */
    static boolean needsRecovery(Path dir, long recordedEnd) {
        if (!Files.isDirectory(dir)) return recordedEnd > 0;
        String only = null; // the base offset's digits of the one segment seen
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path f : entries) {
                String name = f.getFileName().toString();
                int dot = name.indexOf('.');
                String stem = dot < 0 ? name : name.substring(0, dot);
                String ext = dot < 0 ? "" : name.substring(dot);
                boolean segmentFile = ext.equals(".log") || ext.equals(".index") || ext.equals(".timeindex");
                if (!segmentFile || (only != null && !only.equals(stem))) return true;
                only = stem;
                if (ext.equals(".log") && Files.size(f) > 0) return true;
            }
            if (only == null) return recordedEnd > 0;
            if (!Files.exists(dir.resolve(only + ".log"))) return true; // its index files without it
            return recordedEnd > Long.parseLong(only);
        } catch (IOException | NumberFormatException e) {
            return true; // let recovery open it and report what is wrong
        }
    }
}
