package kiri.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import kiri.protocol.message.ApiKey;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

class ClientUnitTest {
    @Test
    void murmur2MatchesKafkasPartitioner() {
        Random random = new Random(42);
        for (int length = 0; length < 40; length++) {
            for (int i = 0; i < 20; i++) {
                byte[] key = new byte[length];
                random.nextBytes(key);
                assertEquals(Utils.murmur2(key), Partitioner.murmur2(key));
                assertEquals(Utils.toPositive(Utils.murmur2(key)) % 7, (Partitioner.murmur2(key) & 0x7fffffff) % 7);
            }
        }
        assertEquals(Utils.murmur2("order-42".getBytes(StandardCharsets.UTF_8)),
                Partitioner.murmur2("order-42".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void bootstrapListsParse() {
        assertEquals(2, Cluster.parse("a:1, b:9092").size());
        assertEquals(9092, Cluster.parse("[::1]:9092").getFirst().getPort());
        assertThrows(IllegalArgumentException.class, () -> Cluster.parse("localhost"));
        assertThrows(IllegalArgumentException.class, () -> Cluster.parse("localhost:x"));
        assertThrows(IllegalArgumentException.class, () -> Cluster.parse("localhost:70000"));
    }

    @Test
    void clientCapsTopicIdOnlyVersions() {
        assertEquals(12, NodeConnection.clientMax(ApiKey.PRODUCE));
        assertEquals(12, NodeConnection.clientMax(ApiKey.FETCH));
        assertEquals(ApiKey.METADATA.highestVersion, NodeConnection.clientMax(ApiKey.METADATA));
    }

    @Test
    void idempotenceNeedsAcksAll() {
        assertThrows(IllegalArgumentException.class, () -> ProducerConfig.defaults().withAcks((short) 1).withIdempotent(true));
        assertEquals(false, ProducerConfig.defaults().withAcks((short) 0).idempotent());
        assertEquals(true, ProducerConfig.defaults().idempotent());
    }
}
