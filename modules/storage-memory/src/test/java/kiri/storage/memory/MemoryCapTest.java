package kiri.storage.memory;

import static kiri.testsupport.Assert.assertFails;
import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import kiri.protocol.ErrorCode;
import kiri.storage.api.NewTopic;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageException;
import kiri.storage.api.Storages;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.junit.jupiter.api.Test;

/** {@code memory://?max.bytes=N}: a full store refuses produce with KAFKA_STORAGE_ERROR, keeps what it has, and takes more once room is freed. */
class MemoryCapTest {
    private static final StorageContext CONTEXT = new StorageContext(0, null, "localhost", 9092);
    private final TopicPartition tp = new TopicPartition("t", 0);

    @Test
    void aFullStoreRefusesProduceWithAStorageErrorUntilRoomIsFreed() {
        long batch = KafkaBatches.plain(10).byteSize();
        try (Storage storage = Storages.open("memory://?max.bytes=" + (3 * batch), CONTEXT)) {
            await(storage.createTopic(new NewTopic("t", 1), false));
            for (int i = 0; i < 3; i++) {
                await(storage.produce(null, tp, KafkaBatches.plain(10)));
            }
            StorageException full = assertFails(ErrorCode.KAFKA_STORAGE_ERROR, storage.produce(null, tp, KafkaBatches.plain(10)));
            assertTrue(full.getMessage().contains("max.bytes"), full.getMessage());
            assertEquals(30L, await(storage.offsets(tp)).highWatermark(), "nothing stored was lost");
            await(storage.deleteRecords(tp, 10));
            MemorySegment next = KafkaBatches.plain(10);
            await(storage.produce(null, tp, next));
            assertEquals(40L, await(storage.offsets(tp)).highWatermark(), "room freed by DeleteRecords is usable");
            await(storage.deleteTopic(kiri.storage.api.TopicRef.of("t")));
            await(storage.createTopic(new NewTopic("t", 1), false));
            for (int i = 0; i < 3; i++) {
                await(storage.produce(null, tp, KafkaBatches.plain(10)));
            } // deleting the topic gave all its room back
        }
    }

    @Test
    void aBadCapIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Storages.open("memory://?max.bytes=lots", CONTEXT));
        assertTrue(e.getMessage().contains("max.bytes"), e.getMessage());
    }

    @Test
    void theDefaultIsHalfTheHeap() {
        try (Storage storage = Storages.open("memory://", CONTEXT)) {
            assertTrue(storage.describe().contains("max.bytes " + Runtime.getRuntime().maxMemory() / 2), storage.describe());
        }
    }
}
