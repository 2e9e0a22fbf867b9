package kiri.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.Frames;
import kiri.protocol.Records;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.RequestHeader;
import kiri.transport.Buffer;
import kiri.transport.BufferPool;
import kiri.transport.ConnectionContext;
import kiri.transport.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A {@link Pinned} answer becomes frame runs and file parts that add up to the plain encoding. */
class PinnedTest {
    @TempDir
    Path dir;

    @Test
    void partsConcatenateToThePlainEncodingAndReleaseOnce() throws Exception {
        byte[] content = new byte[4096];
        new Random(1).nextBytes(content);
        Path path = dir.resolve("log");
        Files.write(path, content);
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ); BufferPool pool = new BufferPool()) {
            MemorySegment memory = Arena.ofAuto().allocate(300);
            memory.copyFrom(MemorySegment.ofArray(content).asSlice(1000, 300));
            MemorySegment plainMemory = Arena.ofAuto().allocate(200);
            plainMemory.copyFrom(MemorySegment.ofArray(content).asSlice(3000, 200));
            Records regions = Records.of(List.of(new Records.FileRegion(file, 10, 100),
                    new Records.Memory(memory), new Records.FileRegion(file, 2000, 1500)));
            AtomicInteger released = new AtomicInteger();
            short version = 12; // flexible: varint lengths
            FetchResponse body = response(regions, Records.of(plainMemory));
            Router router = new Router(RouteTable.builder().route(ApiKey.FETCH, (ctx, request) ->
                    CompletableFuture.completedFuture(new Pinned(body, 1600, released::incrementAndGet))).build());

            MemorySegment request = Frames.encodeRequest(new RequestHeader().setRequestApiKey(ApiKey.FETCH.id)
                    .setRequestApiVersion(version).setCorrelationId(77).setClientId("t"), new FetchRequest(),
                    n -> MemorySegment.ofArray(new byte[(int) n]));
            Response answer = router.handle(context(pool), request.asSlice(4)).toCompletableFuture().get();
            Response.Parts multi = assertInstanceOf(Response.Parts.class, answer);
            assertEquals(5, multi.parts().size(), "run, file, run (with the memory part copied in), file, run");

            ByteArrayOutputStream got = new ByteArrayOutputStream();
            for (Records.Region p : multi.parts()) {
                switch (p) {
                    case Records.Memory(MemorySegment b) -> got.writeBytes(b.toArray(ValueLayout.JAVA_BYTE));
                    case Records.FileRegion(FileChannel f, long position, long length) -> {
                        ByteBuffer b = ByteBuffer.allocate((int) length);
                        f.read(b, position);
                        got.writeBytes(b.array());
                    }
                }
            }
            byte[] records = new byte[1900];
            System.arraycopy(content, 10, records, 0, 100);
            System.arraycopy(content, 1000, records, 100, 300);
            System.arraycopy(content, 2000, records, 400, 1500);
            MemorySegment plain = Frames.encodeResponse(77, ApiKey.FETCH, version,
                    response(Records.of(MemorySegment.ofArray(records)), Records.of(plainMemory)), n -> MemorySegment.ofArray(new byte[(int) n]));
            assertArrayEquals(plain.toArray(ValueLayout.JAVA_BYTE), got.toByteArray());

            assertEquals(0, released.get());
            multi.release().run();
            assertEquals(1, released.get());
            assertEquals(0, pool.outstanding(), "the frame buffer went back with the release");
        }
    }

    @Test
    void recordsAllInMemoryAreCopiedAndReleasedBeforeTheResponseIsWritten() throws Exception {
        try (BufferPool pool = new BufferPool()) {
            byte[] content = new byte[700];
            new Random(2).nextBytes(content);
            AtomicInteger released = new AtomicInteger();
            short version = 12;
            Records records = Records.of(List.of(new Records.Memory(MemorySegment.ofArray(content).asSlice(0, 300)),
                    new Records.Memory(MemorySegment.ofArray(content).asSlice(300))));
            Router router = new Router(RouteTable.builder().route(ApiKey.FETCH, (ctx, request) ->
                    CompletableFuture.completedFuture(new Pinned(response(records, null), 0, released::incrementAndGet)))
                    .build());
            MemorySegment request = Frames.encodeRequest(new RequestHeader().setRequestApiKey(ApiKey.FETCH.id)
                    .setRequestApiVersion(version).setCorrelationId(5).setClientId("t"), new FetchRequest(),
                    n -> MemorySegment.ofArray(new byte[(int) n]));
            Response answer = router.handle(context(pool), request.asSlice(4)).toCompletableFuture().get();
            Response.Send send = assertInstanceOf(Response.Send.class, answer, "one frame, no parts to hold");
            assertEquals(1, released.get(), "the engine's hold ended with the encoding, not the socket write");
            MemorySegment plain = Frames.encodeResponse(5, ApiKey.FETCH, version,
                    response(Records.of(MemorySegment.ofArray(content)), null), n -> MemorySegment.ofArray(new byte[(int) n]));
            assertArrayEquals(plain.toArray(ValueLayout.JAVA_BYTE), send.frame().segment().toArray(ValueLayout.JAVA_BYTE));
            send.frame().close();
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void aFailedEncodingReleasesOnceAndCloses() throws Exception {
        Path path = dir.resolve("log");
        Files.write(path, new byte[100]);
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ); BufferPool pool = new BufferPool()) {
            // 50 file bytes announced that the body does not have: the frame comes out longer than its buffer
            AtomicInteger released = new AtomicInteger();
            Router router = new Router(RouteTable.builder().route(ApiKey.FETCH, (ctx, request) ->
                    CompletableFuture.completedFuture(new Pinned(response(Records.EMPTY, null), 50,
                            released::incrementAndGet)))
                    .build());
            MemorySegment request = Frames.encodeRequest(new RequestHeader().setRequestApiKey(ApiKey.FETCH.id)
                    .setRequestApiVersion((short) 12).setCorrelationId(1).setClientId("t"), new FetchRequest(),
                    n -> MemorySegment.ofArray(new byte[(int) n]));
            Response answer = router.handle(context(pool), request.asSlice(4)).toCompletableFuture().get();
            assertInstanceOf(Response.Close.class, answer);
            assertEquals(1, released.get());
            assertEquals(0, pool.outstanding());
        }
    }

    private static FetchResponse response(Records first, Records second) {
        FetchResponse r = new FetchResponse().setSessionId(0);
        FetchResponse.FetchableTopicResponse topic = new FetchResponse.FetchableTopicResponse()
                .setTopicId(new java.util.UUID(1, 2));
        topic.partitions().add(new FetchResponse.PartitionData().setPartitionIndex(0).setRecords(first));
        topic.partitions().add(new FetchResponse.PartitionData().setPartitionIndex(1).setRecords(second));
        r.responses().add(topic);
        return r;
    }

    private static ConnectionContext context(BufferPool pool) {
        return new ConnectionContext() {
            @Override
            public long id() {
                return 1;
            }

            @Override
            public InetSocketAddress remoteAddress() {
                return new InetSocketAddress("127.0.0.1", 1);
            }

            @Override
            public InetSocketAddress localAddress() {
                return new InetSocketAddress("127.0.0.1", 2);
            }

            @Override
            public BufferPool pool() {
                return pool;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public kiri.transport.LoopContext loop() {
                throw new UnsupportedOperationException("encoding needs no event loop");
            }
        };
    }
}
