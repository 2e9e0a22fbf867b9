package kiri.router;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import org.junit.jupiter.api.Test;

class BrokerRoutesTest {
    /** The transport's end of an event loop round reaches the engine: it is where the file engine's group commit runs. */
    @Test
    void theRoutersRoundEndIsTheEnginesRoundEnd() throws Exception {
        AtomicInteger rounds = new AtomicInteger();
        try (Storage engine = Storages.open("null://", new StorageContext(0, null, "localhost", 9092))) {
            Storage counting = (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("endRound")) rounds.incrementAndGet();
                        try {
                            return method.invoke(engine, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            Router router = BrokerRoutes.create(counting, new BrokerConfig(0, engine.clusterId(), "localhost", 9092, true, 1),
                    new ApiMetrics());
            router.endRound();
            router.endRound();
            assertEquals(2, rounds.get());
        }
    }
}
