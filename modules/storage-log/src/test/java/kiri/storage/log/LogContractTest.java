package kiri.storage.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageUrl;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;

/** file: passes the whole storage contract suite, reopen included (a fresh directory per test). */
class LogContractTest extends StorageContract {
    @Override
    protected ContractEngine newEngine() {
        Path dir;
        try {
            dir = Files.createTempDirectory("kiri-contract-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ContractEngine() {
            @Override
            public Storage open(StorageContext context) {
                return new LogStorageProvider().open(StorageUrl.parse("file:" + dir), context);
            }

            @Override
            public void close() {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }
}
