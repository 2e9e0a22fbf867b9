package kiri.storage.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import kiri.protocol.ErrorCode;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.SecurityState;
import kiri.storage.api.StorageException;
import kiri.storage.api.TopicInfo;
import kiri.storage.kit.GroupTable;
import kiri.storage.kit.MetadataStore;
import kiri.storage.kit.TransactionTable;

/**
 * The file engine's metadata files, the {@link MetadataStore} its catalogue writes through: {@code cluster.meta},
 * {@code topics/<topic id>.topic} ({@link TopicStore}), {@code producer-ids.meta}, {@code groups/<digest>.group},
 * {@code txns/<digest>.txn} ({@link IdFiles}) and {@code security.meta} ({@link SecurityFile}). Every file is replaced
 * atomically ({@link AtomicFiles}) and ends with a CRC32C; an unreadable one stops the open naming it ({@link MetaFiles}).
 *
 * <p>A deleted topic whose file cannot be deleted (an I/O error; btrfs can refuse even unlinks on a full disk) is
 * deleted all the same, and its file retried by {@link #retry} (housekeeping, close); meanwhile its name cannot be
 * created again, since two files of one name would meet at the next open.
 *
 * <p>Threading: the engine's metadata thread, and its constructor and close, only.
 */
final class LogMetadata implements MetadataStore {
    private static final System.Logger LOG = System.getLogger("kiri.storage.log");

    private final Path root;
    private final Path groupsDir;
    private final Path txnsDir;
    private final IdFiles groupFiles;
    private final IdFiles txnFiles;
    private TopicStore topics;
    private SecurityFile security;
    /** Deleted topics whose file could not be deleted yet, by id, with their names. */
    private final Map<UUID, String> undeletedTopicFiles = new LinkedHashMap<>();

    /** Creates the directories; reads nothing yet (the engine takes its lock first). */
    LogMetadata(Path root) {
        this.root = root;
        this.groupsDir = root.resolve("groups");
        this.txnsDir = root.resolve("txns");
        AtomicFiles.createDirectories(root);
        AtomicFiles.createDirectories(groupsDir);
        AtomicFiles.createDirectories(txnsDir);
        this.groupFiles = new IdFiles(groupsDir, ".group");
        this.txnFiles = new IdFiles(txnsDir, ".txn");
    }

    // ---- opening ----------------------------------------------------------------------------

    /** The stored cluster id, or {@code configured} (else a new one) stored now. @throws StorageException INCONSISTENT_CLUSTER_ID */
    String clusterId(String configured) {
        Path file = root.resolve("cluster.meta");
        String stored = MetaFiles.read(file, MetaCodec::string);
        if (stored != null) {
            if (configured != null && !configured.equals(stored)) {
                throw new StorageException(ErrorCode.INCONSISTENT_CLUSTER_ID, "storage " + root + " belongs to cluster "
                        + stored + ", not the configured " + configured);
            }
            return stored;
        }
        String id = configured != null ? configured : KafkaUuid.toString(KafkaUuid.random());
        AtomicFiles.write(file, MetaCodec.string(id));
        return id;
    }

    List<MetaCodec.StoredTopic> loadTopics() {
        topics = new TopicStore(root);
        return topics.load();
    }

    void loadGroups(GroupTable groups) {
        load(groupsDir, ".group", MetaCodec::group, g -> {
            groups.restore(g);
            return g.groupId();
        }, groupFiles);
    }

    void loadTransactions(TransactionTable txns) {
        load(txnsDir, ".txn", MetaCodec::txn, t -> {
            txns.restore(t);
            return t.transactionalId();
        }, txnFiles);
    }

    /** Restores every {@code suffix} file of {@code dir}; deletes temp files of interrupted writes. */
    private static <T> void load(Path dir, String suffix, Function<byte[], T> decoder, Function<T, String> restore,
                                 IdFiles files) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path f : entries) {
                if (f.getFileName().toString().endsWith(suffix)) {
                    files.loaded(restore.apply(MetaFiles.decode(f, Files.readAllBytes(f), decoder)), f);
                } else {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load " + dir, e);
        }
    }

    SecurityState loadSecurity() {
        security = new SecurityFile(root);
        return security.state();
    }

    /** The end of the last reserved block of producer ids, 0 if none. */
    long producerIdsEnd() {
        Long stored = MetaFiles.read(root.resolve("producer-ids.meta"), MetaCodec::longValue);
        return stored == null ? 0L : stored;
    }

    /** Reserves producer ids below {@code end}: durable before any id of the block is used. */
    void reserveProducerIds(long end) {
        AtomicFiles.write(root.resolve("producer-ids.meta"), MetaCodec.longValue(end));
    }

    // ---- MetadataStore ------------------------------------------------------------------------

    @Override
    public void putTopic(TopicInfo info, boolean created) {
        if (created) {
            retry();
            if (undeletedTopicFiles.containsValue(info.name())) { // two files of one name would meet at the next open
                throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "topic '" + info.name() + "' is still being deleted: "
                        + "its metadata file could not be deleted yet (retrying)");
            }
        }
        // Only the topic's file: partitions create their directories on first use, so a failure here leaves nothing.
        topics.put(new MetaCodec.StoredTopic(info.name(), info.id(), info.partitionCount(), info.replicationFactor(), info.configs()));
    }

    /**
     * The topic's own file first: once it is gone, a crash leaves only partition directories, which the next open
     * removes. Should deleting it fail, the topic is deleted all the same, its data first, since that is what frees a
     * full disk, and the file is retried right after and then by housekeeping. A crash before it is gone brings the
     * topic back, empty (a partly deleted partition keeps a suffix of its segments, they go oldest first, so no offset
     * is reused).
     */
    @Override
    public void removeTopic(TopicInfo info, Runnable dropData) {
        undeletedTopicFiles.put(info.id(), info.name());
        retry();
        dropData.run();
        if (undeletedTopicFiles.containsKey(info.id())) retry();
    }

    @Override
    public void putGroup(GroupTable.Snapshot s) {
        Path file = groupFiles.file(s.groupId());
        if (s.isDeleted()) {
            AtomicFiles.delete(file);
            groupFiles.forget(s.groupId());
        } else {
            AtomicFiles.write(file, MetaCodec.group(s));
        }
    }

    @Override
    public void putTransaction(TransactionTable.Snapshot s) {
        AtomicFiles.write(txnFiles.file(s.transactionalId()), MetaCodec.txn(s));
    }

    @Override
    public void putSecurity(SecurityState state) {
        security.write(state);
    }

    /** Deletes the files of deleted topics that could not be deleted before. */
    @Override
    public boolean retry() {
        UncheckedIOException failed = null;
        for (Iterator<UUID> it = undeletedTopicFiles.keySet().iterator(); it.hasNext(); ) {
            try {
                topics.remove(it.next());
                it.remove();
            } catch (UncheckedIOException e) {
                if (failed == null) failed = e;
            }
        }
        if (failed != null) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete the metadata files of " + undeletedTopicFiles.size()
                    + " deleted topics (retrying): " + failed.getMessage() + ": " + failed.getCause());
        }
        return undeletedTopicFiles.isEmpty();
    }
}
