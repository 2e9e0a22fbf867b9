package kiri.storage.log;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;

/**
 * Which file in one directory holds which string id (group ids, transactional ids, up to Kafka's 32767
 * bytes). A file's name never carries the id: a new id gets {@code <first 128 bits of SHA-256, hex><suffix>},
 * so every name has 32 characters plus the suffix whatever the id's length, and the full id lives inside the
 * file. Two ids with the same digest (not expected, but handled) get {@code <digest>-1<suffix>}, {@code -2}, ...
 * Files written before this scheme are named by the hex of the id's UTF-8 bytes; they keep their names
 * ({@link #loaded} records whatever name the id was read from), so old directories open unchanged.
 *
 * <p>The engine reads every file on open and learns each one's id from its content, so the mapping is built
 * from what is on disk, never from a name. Threading: the engine's metadata thread only.
 */
final class IdFiles {
    private final Path dir;
    private final String suffix;
    private final Map<String, Path> byId = new HashMap<>();
    private final Set<Path> used = new HashSet<>();

    IdFiles(Path dir, String suffix) {
        this.dir = dir;
        this.suffix = suffix;
    }

    /** On open: {@code file} holds {@code id}. */
    void loaded(String id, Path file) {
        byId.put(id, file);
        used.add(file);
    }

    /** The file for {@code id}: the one it was loaded from or assigned before, else a fresh digest name. */
    Path file(String id) {
        Path known = byId.get(id);
        if (known != null) return known;
        String digest = digest(id);
        Path f = dir.resolve(digest + suffix);
        for (int n = 1; used.contains(f); n++) f = dir.resolve(digest + "-" + n + suffix);
        loaded(id, f);
        return f;
    }

    /** The id's file was deleted: its name may be reused. */
    void forget(String id) {
        Path f = byId.remove(id);
        if (f != null) used.remove(f);
    }

    static String digest(String id) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
