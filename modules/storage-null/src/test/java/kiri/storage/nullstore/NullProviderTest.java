package kiri.storage.nullstore;

import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kiri.storage.api.BrokerInfo;
import kiri.storage.api.KafkaUuid;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageProvider;
import kiri.storage.api.Storages;
import org.junit.jupiter.api.Test;

class NullProviderTest {
    private static final StorageContext CTX = new StorageContext(3, "kiri-test-cluster", "broker.example", 9092);

    @Test
    void serviceLoaderFindsTheNullEngineOnTheModulePath() {
        List<StorageProvider> found = Storages.providers(ModuleLayer.boot());
        StorageProvider nul = Storages.provider("null", found);
        assertEquals("kiri.storage.nullstore", nul.getClass().getModule().getName(), "a named module, bound as a service");
        try (Storage storage = Storages.open("null://", CTX)) {
            assertEquals("kiri.storage.nullstore", storage.getClass().getModule().getName());
            assertEquals("kiri-test-cluster", storage.clusterId());
            assertEquals(3, storage.nodeId());
            assertEquals(List.of(new BrokerInfo(3, "broker.example", 9092, null)), await(storage.brokers()));
            assertTrue(storage.describe().startsWith("null://"), storage.describe());
        }
    }

    @Test
    void unknownSchemeListsTheSchemesFound() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Storages.open("foo://bar", CTX));
        assertTrue(e.getMessage().startsWith("no storage engine for scheme 'foo' (found: "), e.getMessage());
        assertTrue(e.getMessage().matches(".*\\(found: (.*, )?null(, .*)?\\)"), e.getMessage());
    }

    @Test
    void nullTakesNoLocationOrParameters() {
        assertThrows(IllegalArgumentException.class, () -> Storages.open("null://somewhere", CTX));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Storages.open("null://?fsync=never", CTX));
        assertEquals("unknown parameter 'fsync' in storage URL 'null://?fsync=never'; null takes none", e.getMessage());
        try (Storage s = Storages.open("NULL:", CTX)) {
            await(s.ping());
        }
    }

    @Test
    void generatesAKafkaStyleClusterIdWhenNoneIsConfigured() {
        try (Storage s = Storages.open("null://", new StorageContext(0, null, "localhost", 0))) {
            assertEquals(22, s.clusterId().length());
            KafkaUuid.parse(s.clusterId());
            await(s.registerBroker(new BrokerInfo(0, "localhost", 40123, null)));
            assertEquals(40123, await(s.brokers()).getFirst().port(), "re-registration after binding updates the port");
        }
    }
}
