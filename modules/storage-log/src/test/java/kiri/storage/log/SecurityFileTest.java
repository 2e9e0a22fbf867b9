package kiri.storage.log;

import static kiri.storage.log.Harness.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import kiri.storage.api.AclEntry;
import kiri.storage.api.ScramCredential;
import kiri.storage.api.SecurityState;
import kiri.storage.api.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code security.meta}: survives a reopen, and a damaged one stops the open naming it. */
class SecurityFileTest {
    @TempDir
    Path dir;

    private static final SecurityState STATE = new SecurityState(
            List.of(new ScramCredential("bob", "SCRAM-SHA-512", new byte[] {9, 8}, new byte[] {7}, new byte[] {6}, 8192)),
            List.of(new AclEntry((byte) 3, "g", (byte) 4, "User:bob", "*", (byte) 2, (byte) 3)));

    @Test
    void savedStateIsReadBackAfterReopen() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            assertEquals(SecurityState.EMPTY, await(s.security()), "nothing saved yet");
            await(s.saveSecurity(STATE));
            assertEquals(STATE.acls(), await(s.security()).acls());
        }
        try (LogStorage s = Harness.open(dir)) {
            SecurityState read = await(s.security());
            assertEquals(STATE.acls(), read.acls());
            ScramCredential c = read.scram().getFirst();
            assertEquals(8192, c.iterations());
            assertArrayEquals(new byte[] {9, 8}, c.salt());
        }
    }

    @Test
    void damagedFileRefusesTheOpenNamingIt() throws Exception {
        try (LogStorage s = Harness.open(dir)) {
            await(s.saveSecurity(STATE));
        }
        Path file = dir.resolve(SecurityFile.NAME);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
        StorageException e = assertThrows(StorageException.class, () -> Harness.open(dir).close());
        assertTrue(e.getMessage().contains(SecurityFile.NAME) && e.getMessage().contains("is corrupt at byte"), e.getMessage());
    }
}
