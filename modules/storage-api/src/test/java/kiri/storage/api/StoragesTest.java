package kiri.storage.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoragesTest {

    /** A provider that records what it was asked to open and fails there (no Storage needed for these tests). */
    private record Fake(String scheme) implements StorageProvider {
        @Override
        public Storage open(StorageUrl url, StorageContext context) {
            throw new IllegalStateException("opened " + url.scheme() + " at '" + url.location() + "' " + url.params());
        }
    }

    private static final StorageContext CTX = new StorageContext(1, null, "localhost", 9092);

    @Test
    void urlForms() {
        assertEquals(new StorageUrl("null://", "null", "", Map.of()), StorageUrl.parse("null://"));
        assertEquals(new StorageUrl("memory://", "memory", "", Map.of()), StorageUrl.parse("memory://"));
        assertEquals(new StorageUrl("file:PATH", "file", "PATH", Map.of()), StorageUrl.parse("file:PATH"));
        StorageUrl f = StorageUrl.parse("file:./kiri-data?fsync=never");
        assertEquals("file", f.scheme());
        assertEquals("./kiri-data", f.location());
        assertEquals(Map.of("fsync", "never"), f.params());
        assertEquals("never", f.param("fsync", "always"));
        assertEquals("/var/kiri data", StorageUrl.parse("FILE:///var/kiri data").location());
        assertEquals("file", StorageUrl.parse("FILE:///x").scheme());
        assertEquals("u@h:5432/db", StorageUrl.parse("postgres://u@h:5432/db?sslmode=require&x=a%20b").location());
        assertEquals("a b", StorageUrl.parse("postgres://u@h:5432/db?sslmode=require&x=a%20b").params().get("x"));
    }

    @Test
    void badUrlsAreOneLineErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StorageUrl.parse("kiri-data"));
        assertEquals("storage URL 'kiri-data' has no scheme; expected SCHEME:LOCATION, e.g. memory://, null:// or file:./kiri-data",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StorageUrl.parse("1x://"));
        assertThrows(IllegalArgumentException.class, () -> StorageUrl.parse("file:x?a=1&a=2"));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> StorageUrl.parse("file:x?fsink=never").requireOnlyParams("fsync"));
        assertEquals("unknown parameter 'fsink' in storage URL 'file:x?fsink=never'; known: fsync", unknown.getMessage());
    }

    @Test
    void unknownSchemeListsTheSchemesFound() {
        List<StorageProvider> providers = List.of(new Fake("null"), new Fake("memory"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Storages.open("foo://", CTX, providers));
        assertEquals("no storage engine for scheme 'foo' (found: memory, null)", e.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> Storages.open("foo://", CTX, List.of()));
        assertEquals("no storage engine for scheme 'foo' (found: none)", none.getMessage());
    }

    @Test
    void picksTheProviderBySchemeAndPassesTheParsedUrl() {
        Fake memory = new Fake("memory");
        List<StorageProvider> providers = List.of(new Fake("null"), memory, new Fake("file"));
        assertSame(memory, Storages.provider("MEMORY", providers));
        IllegalStateException opened = assertThrows(IllegalStateException.class,
                () -> Storages.open("file:./kiri-data?fsync=never", CTX, providers));
        assertEquals("opened file at './kiri-data' {fsync=never}", opened.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> Storages.provider("null", List.of(new Fake("null"), new Fake("null"))));
        assertEquals(true, twice.getMessage().startsWith("two storage engines for scheme 'null'"));
    }
}
