package kiri.storage.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import kiri.storage.api.KafkaUuid;

/**
 * Topic metadata, one file per topic: {@code topics/<topic id>.topic} holds one {@link MetaCodec.StoredTopic},
 * written crash-safely ({@link AtomicFiles}) and closed by a CRC32C like every metadata file ({@link MetaCodec}). Creating, changing or deleting a topic writes or deletes that one
 * file, so the cost of a change does not grow with the number of topics.
 *
 * <p>Directories written before this layout keep every topic in one {@code topics.meta}; {@link #load} migrates
 * it: each topic's file is written, then {@code topics.meta} is deleted. A crash in between leaves
 * {@code topics.meta} in place and the next open migrates again (it rewrites the same files).
 *
 * <p>An unreadable file (or {@code topics.meta}) stops the open with one line naming it ({@link MetaFiles}).
 *
 * <p>Threading: the engine's metadata thread (and its constructor) only.
 */
final class TopicStore {
    static final String SUFFIX = ".topic";
    static final String LEGACY_FILE = "topics.meta";

    private final Path root;
    private final Path dir;

    TopicStore(Path root) {
        this.root = root;
        this.dir = root.resolve("topics");
        AtomicFiles.createDirectories(dir);
    }

    /** Every stored topic (migrating a legacy {@code topics.meta} first); removes temp files of interrupted writes. */
    List<MetaCodec.StoredTopic> load() {
        Path legacy = root.resolve(LEGACY_FILE);
        List<MetaCodec.StoredTopic> old = MetaFiles.read(legacy, MetaCodec::topics);
        if (old != null) {
            for (MetaCodec.StoredTopic t : old) put(t);
            AtomicFiles.delete(legacy);
        }
        List<MetaCodec.StoredTopic> out = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path f : entries) {
                if (f.getFileName().toString().endsWith(SUFFIX)) out.add(MetaFiles.decode(f, Files.readAllBytes(f), MetaCodec::topic));
                else Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load topics from " + dir, e);
        }
        return out;
    }

    /** Writes (creates or replaces) the topic's file; once this returns, the topic survives a crash. */
    void put(MetaCodec.StoredTopic topic) {
        AtomicFiles.write(file(topic.id()), MetaCodec.topic(topic));
    }

    /**
     * Deletes the topic's file; once this returns, the topic stays deleted after a crash. The directory is forced even
     * if the file is already gone: a retry after a failed force must still make the deletion durable.
     */
    void remove(UUID topicId) {
        try {
            Files.deleteIfExists(file(topicId));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file(topicId), e);
        }
        AtomicFiles.forceDirectory(dir);
    }

    private Path file(UUID topicId) {
        return dir.resolve(KafkaUuid.toString(topicId) + SUFFIX);
    }
}
