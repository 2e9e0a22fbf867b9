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
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.Frames;
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

/** A {@link Spliced} answer becomes frame runs and file parts that add up to the plain encoding. */
class SplicedTest {
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
            List<Response.Part> parts = List.of(new Response.Part.File(file, 10, 100),
                    new Response.Part.Bytes(memory), new Response.Part.File(file, 2000, 1500));
            MemorySegment placeholder = Spliced.placeholder(1900);
            AtomicInteger released = new AtomicInteger();
            short version = 12; // flexible: varint lengths
            FetchResponse spliced = response(placeholder, plainMemory);
            Router router = new Router(RouteTable.builder().route(ApiKey.FETCH, (ctx, request) ->
                    CompletableFuture.completedFuture(new Spliced(spliced, Map.of(placeholder, parts),
                            released::incrementAndGet))).build());

            MemorySegment request = Frames.encodeRequest(new RequestHeader().setRequestApiKey(ApiKey.FETCH.id)
                    .setRequestApiVersion(version).setCorrelationId(77).setClientId("t"), new FetchRequest(),
                    n -> MemorySegment.ofArray(new byte[(int) n]));
            Response answer = router.handle(context(pool), request.asSlice(4)).toCompletableFuture().get();
            Response.Parts multi = assertInstanceOf(Response.Parts.class, answer);
            assertEquals(5, multi.parts().size(), "run, file, run (with the memory part copied in), file, run");

            ByteArrayOutputStream got = new ByteArrayOutputStream();
            for (Response.Part p : multi.parts()) {
                switch (p) {
                    case Response.Part.Bytes(MemorySegment b) -> got.writeBytes(b.toArray(ValueLayout.JAVA_BYTE));
                    case Response.Part.File(FileChannel f, long position, long length) -> {
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
                    response(MemorySegment.ofArray(records), plainMemory), n -> MemorySegment.ofArray(new byte[(int) n]));
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
            MemorySegment placeholder = Spliced.placeholder(content.length);
            AtomicInteger released = new AtomicInteger();
            short version = 12;
            Router router = new Router(RouteTable.builder().route(ApiKey.FETCH, (ctx, request) ->
                    CompletableFuture.completedFuture(new Spliced(response(placeholder, null),
                            Map.of(placeholder, List.of(new Response.Part.Bytes(MemorySegment.ofArray(content)))),
                            released::incrementAndGet))).build());
            MemorySegment request = Frames.encodeRequest(new RequestHeader().setRequestApiKey(ApiKey.FETCH.id)
                    .setRequestApiVersion(version).setCorrelationId(5).setClientId("t"), new FetchRequest(),
                    n -> MemorySegment.ofArray(new byte[(int) n]));
            Response answer = router.handle(context(pool), request.asSlice(4)).toCompletableFuture().get();
            Response.Send send = assertInstanceOf(Response.Send.class, answer, "one frame, no parts to hold");
            assertEquals(1, released.get(), "the engine's hold ended with the encoding, not the socket write");
            MemorySegment plain = Frames.encodeResponse(5, ApiKey.FETCH, version,
                    response(MemorySegment.ofArray(content), null), n -> MemorySegment.ofArray(new byte[(int) n]));
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
            // the placeholder is not in the body, so the frame comes out 50 bytes longer than its buffer
            MemorySegment stray = Spliced.placeholder(50);
            AtomicInteger released = new AtomicInteger();
            Router router = new Router(RouteTable.builder().route(ApiKey.FETCH, (ctx, request) ->
                    CompletableFuture.completedFuture(new Spliced(response(Spliced.placeholder(0), null),
                            Map.of(stray, List.of(new Response.Part.File(file, 0, 50))), released::incrementAndGet)))
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

    @Test
    void placeholdersHaveTheirLengthAndAreDistinct() {
        for (long n : new long[] {0, 10, 3 << 20, 9 << 20}) {
            MemorySegment a = Spliced.placeholder(n);
            MemorySegment b = Spliced.placeholder(n);
            assertEquals(n, a.byteSize());
            assertEquals(n, b.byteSize());
            org.junit.jupiter.api.Assertions.assertNotSame(a, b);
        }
    }

    @Test
    void evenHugePlaceholdersTakeNoMemory() {
        // slices of a mapping of a sparse temp file, never touched (a zeroed allocation would cost its size)
        MemorySegment huge = Spliced.placeholder(512L << 20);
        assertEquals(512L << 20, huge.byteSize());
        org.junit.jupiter.api.Assertions.assertTrue(huge.isMapped(), "mapped, not allocated");
    }

    private static FetchResponse response(MemorySegment first, MemorySegment second) {
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
