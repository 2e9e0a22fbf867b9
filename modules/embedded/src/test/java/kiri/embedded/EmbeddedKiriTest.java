package kiri.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKiriTest {
    @Test
    void startsWithTopicsAndServesKafkaClients() throws Exception {
        try (EmbeddedKiri kiri = EmbeddedKiri.builder().topic("orders", 3).topic("audit", 1, Map.of("cleanup.policy", "compact")).start()) {
            assertTrue(kiri.bootstrapServers().startsWith("127.0.0.1:"));
            assertNotEquals(0, kiri.port());
            assertEquals("memory://", kiri.storageUrl());
            try (AdminClient admin = AdminClient.create(props(kiri))) {
                TopicDescription orders = admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
                assertEquals(3, orders.partitions().size());
            }
            assertEquals(List.of("v1", "v2"), KafkaRoundTrip.produceAndConsume(kiri.bootstrapServers(), "orders", List.of("v1", "v2")));
        }
    }

    @Test
    void eachBrokerIsSeparate() throws Exception {
        try (EmbeddedKiri a = EmbeddedKiri.start(); EmbeddedKiri b = EmbeddedKiri.start()) {
            a.createTopic("only-in-a", 2);
            assertNotEquals(a.port(), b.port());
            try (AdminClient admin = AdminClient.create(props(b))) {
                assertFalse(admin.listTopics().names().get().contains("only-in-a"));
            }
        }
    }

    @Test
    void refusedTopicIsAClearErrorAndStartLeavesNothingRunning() {
        try (EmbeddedKiri kiri = EmbeddedKiri.builder().topic("t", 1).start()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kiri.createTopic("t", 1));
            assertTrue(e.getMessage().startsWith("cannot create topic 't'"), e.getMessage());
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> EmbeddedKiri.builder().topic("bad name!", 1).start());
        assertTrue(bad.getMessage().contains("bad name!"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmbeddedKiri.builder().storage("nope://").start());
    }

    @Test
    void portInUseIsUnchecked() {
        try (EmbeddedKiri first = EmbeddedKiri.start()) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> EmbeddedKiri.builder().port(first.port()).start());
            assertTrue(e.getMessage().contains(String.valueOf(first.port())), e.getMessage());
        }
    }

    @Test
    void fileStorageKeepsRecordsAcrossBrokers(@TempDir Path dir) throws Exception {
        String url = "file:" + dir.resolve("data");
        try (EmbeddedKiri kiri = EmbeddedKiri.builder().storage(url).topic("kept", 1).start()) {
            KafkaRoundTrip.produceAndConsume(kiri.bootstrapServers(), "kept", List.of("a"));
        }
        assertTrue(Files.isDirectory(dir.resolve("data")));
        try (EmbeddedKiri again = EmbeddedKiri.builder().storage(url).start()) {
            assertEquals(List.of("a"), KafkaRoundTrip.consume(again.bootstrapServers(), "kept", 1));
        }
    }

    @Test
    void closeIsIdempotent() {
        EmbeddedKiri kiri = EmbeddedKiri.start();
        assertTrue(kiri.isRunning());
        kiri.close();
        kiri.close();
        assertFalse(kiri.isRunning());
    }

    static Properties props(EmbeddedKiri kiri) {
        Properties p = new Properties();
        p.put("bootstrap.servers", kiri.bootstrapServers());
        return p;
    }
}
