package kiri.router.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.Records;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.RequestHeader;
import kiri.router.BrokerConfig;
import kiri.router.Pinned;
import kiri.router.RequestContext;
import kiri.storage.api.FetchResult;
import kiri.storage.api.PartitionInfo;
import kiri.storage.api.Storage;
import kiri.storage.api.TopicInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetch results pin storage until the response is sent: the answer carries them (as {@link Pinned}
 * file regions) and releases each exactly once, and a long poll releases the reads it throws away.
 */
class FetchHandlerReleaseTest {
    @TempDir
    Path dir;

    private final AtomicInteger fetches = new AtomicInteger();
    private final AtomicInteger releases = new AtomicInteger();
    private FileChannel file;

    @org.junit.jupiter.api.AfterEach
    void closeFile() throws java.io.IOException {
        if (file != null) {
            file.close();
        }
    }

    private Storage storage(FileChannel file) {
        TopicInfo topic = new TopicInfo("t", new UUID(1, 1),
                List.of(PartitionInfo.singleNode(0, 0), PartitionInfo.singleNode(1, 0)), (short) 1, java.util.Map.of());
        return (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "describeTopics" -> CompletableFuture.completedFuture(List.of(topic));
                    case "fetch" -> {
                        fetches.incrementAndGet();
                        AtomicInteger mine = new AtomicInteger();
                        yield CompletableFuture.completedFuture(new FetchResult(100, 100, 0,
                                List.of(new Records.FileRegion(file, 0, 10)), List.of(), () -> {
                                    assertEquals(1, mine.incrementAndGet(), "released once");
                                    releases.incrementAndGet();
                                }));
                    }
                    case "awaitData" -> new CompletableFuture<Void>(); // no new data: the poll times out
                    case "placement" -> args[1]; // a single node leads everything (the interface's default)
                    case "toString" -> "test storage";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private Pinned fetch(int minBytes) throws Exception {
        Path path = dir.resolve("log");
        Files.write(path, new byte[64]);
        file = FileChannel.open(path, StandardOpenOption.READ);
        FetchHandler handler = new FetchHandler(new BrokerState(storage(file),
                new BrokerConfig(0, "c", "localhost", 9092, false, 1), new kiri.router.TopicMetrics()));
        FetchRequest request = new FetchRequest().setMaxWaitMs(100).setMinBytes(minBytes).setMaxBytes(1 << 20)
                .setSessionEpoch(-1).setTopics(List.of(new FetchRequest.FetchTopic().setTopic("t").setPartitions(List.of(
                        new FetchRequest.FetchPartition().setPartition(0).setPartitionMaxBytes(1 << 20),
                        new FetchRequest.FetchPartition().setPartition(1).setPartitionMaxBytes(1 << 20)))));
        short version = 12;
        RequestContext context = new RequestContext(null, new RequestHeader().setRequestApiKey(ApiKey.FETCH.id)
                .setRequestApiVersion(version), ApiKey.FETCH, version, System.nanoTime());
        Object answer = handler.handle(context, request).toCompletableFuture().get(10, TimeUnit.SECONDS);
        Pinned pinned = assertInstanceOf(Pinned.class, answer);
        FetchResponse body = assertInstanceOf(FetchResponse.class, pinned.body());
        assertEquals(2, body.responses().getFirst().partitions().size());
        assertEquals(20, pinned.fileBytes(), "both partitions' ranges are file regions");
        for (FetchResponse.PartitionData p : body.responses().getFirst().partitions()) {
            Records.FileRegion region = assertInstanceOf(Records.FileRegion.class, p.records(), "the stored region itself");
            assertEquals(10, region.length());
        }
        return pinned;
    }

    @Test
    void theAnswerHoldsItsResultsUntilReleased() throws Exception {
        Pinned spliced = fetch(1);
        assertEquals(2, fetches.get());
        assertEquals(0, releases.get(), "pinned until the response is written");
        spliced.release().run();
        assertEquals(2, releases.get());
    }

    @Test
    void aLongPollReleasesTheReadsItReplaces() throws Exception {
        Pinned spliced = fetch(1000); // 20 bytes are short of min.bytes: wait, then read again
        assertTrue(fetches.get() >= 4, "read at least twice: " + fetches.get());
        assertEquals(fetches.get() - 2, releases.get(), "all but the answer's two results released");
        spliced.release().run();
        assertEquals(fetches.get(), releases.get());
    }
}
