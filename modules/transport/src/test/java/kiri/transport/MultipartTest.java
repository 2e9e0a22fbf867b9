package kiri.transport;

import static kiri.transport.TestSupport.INT_BE;
import static kiri.transport.TestSupport.await;
import static kiri.transport.TestSupport.command;
import static kiri.transport.TestSupport.echo;
import static kiri.transport.TestSupport.local;
import static kiri.transport.TestSupport.request;
import static kiri.transport.TestSupport.seq;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.Records;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Response.Parts}: memory and file parts in one frame, sent with transferTo. */
class MultipartTest {
    /** Much bigger than any socket buffer on either side. */
    private static final int BIG = 12 << 20;
    private static final int SMALL = 1000;

    private final BufferPool pool = new BufferPool();
    private final ScheduledExecutorService delays = Executors.newScheduledThreadPool(2);
    /** Releases per request seq: each must end at exactly 1. */
    private final Map<Integer, AtomicInteger> releases = new ConcurrentHashMap<>();
    private Server server;
    private FileChannel file;
    private byte[] content;

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        content = new byte[BIG];
        new Random(42).nextBytes(content);
        Path path = dir.resolve("segment.log");
        Files.write(path, content);
        file = FileChannel.open(path, StandardOpenOption.READ);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
        delays.shutdown();
        assertTrue(delays.awaitTermination(10, TimeUnit.SECONDS));
        releases.forEach((seq, n) -> assertEquals(1, n.get(), "response " + seq + " released exactly once"));
        assertEquals(0, pool.outstanding(), "every buffer was released");
        pool.close();
        file.close();
    }

    /**
     * Commands: 'F' the whole file, 'f' 1000 bytes of it at seq * 100, 'E' an echo (Send), 'D' like
     * 'f' but answered 50 ms later, 'B' a wrong size prefix, 'T' a file range past the end of the file.
     * Multi-part bodies are seq, the file bytes, then "END" and seq.
     */
    private Response respond(ConnectionContext connection, MemorySegment frame) {
        int seq = seq(frame);
        char command = command(frame);
        long position = switch (command) {
            case 'F' -> 0;
            case 'T' -> BIG - 10;
            default -> seq * 100L;
        };
        long length = switch (command) {
            case 'F' -> BIG;
            case 'T' -> 20;
            default -> SMALL;
        };
        if (command == 'E') {
            return echo(connection, frame);
        }
        Buffer head = connection.pool().acquire(8);
        Buffer tail = connection.pool().acquire(7);
        long total = 8 + length + 7;
        head.segment().set(INT_BE, 0, (int) (total - 4) + (command == 'B' ? 1 : 0));
        head.segment().set(INT_BE, 4, seq);
        MemorySegment.copy(MemorySegment.ofArray("END".getBytes()), 0, tail.segment(), 0, 3);
        tail.segment().set(INT_BE, 3, seq);
        AtomicInteger count = new AtomicInteger();
        releases.put(seq, count);
        return new Response.Parts(List.of(new Records.Memory(head.segment()),
                new Records.FileRegion(file, position, length), new Records.Memory(tail.segment())), () -> {
                    if (count.incrementAndGet() == 1) { // a second run shows up in the count, not as a pool error
                        head.close();
                        tail.close();
                    }
                });
    }

    private InetSocketAddress start() throws IOException {
        server = Server.start(local((connection, frame) -> {
            Response r = respond(connection, frame);
            if (command(frame) == 'D') {
                CompletableFuture<Response> later = new CompletableFuture<>();
                delays.schedule(() -> later.complete(r), 50, TimeUnit.MILLISECONDS);
                return later;
            }
            return CompletableFuture.completedFuture(r);
        }, pool).build());
        return server.localAddress();
    }

    private byte[] expected(int seq, char command) {
        int from = command == 'F' ? 0 : seq * 100;
        int length = command == 'F' ? BIG : SMALL;
        return ByteBuffer.allocate(4 + length + 7).putInt(seq).put(content, from, length).put("END".getBytes())
                .putInt(seq).array();
    }

    private static Socket connect(InetSocketAddress address, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer); // before connect, so the window starts small
        }
        s.connect(address, 30_000);
        s.setSoTimeout(30_000);
        return s;
    }

    private static byte[] readFrame(DataInputStream in) throws IOException {
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        return body;
    }

    @Test
    void aFileRegionBiggerThanTheSocketBuffersReachesASlowReaderIntact() throws Exception {
        InetSocketAddress address = start();
        try (Socket s = connect(address, 4096)) {
            s.getOutputStream().write(request(7, 'F', 0));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] chunk = new byte[64 * 1024];
            int slowUntil = 2 << 20;
            while (got.size() < 4 + 4 + BIG + 7) {
                int n = in.read(chunk, 0, got.size() < slowUntil ? 4096 : chunk.length);
                assertTrue(n > 0, "stream ended after " + got.size() + " bytes");
                got.write(chunk, 0, n);
                if (got.size() < slowUntil && got.size() % (256 * 1024) < 4096) {
                    Thread.sleep(20); // the server's writes block many times over
                }
            }
            byte[] all = got.toByteArray();
            assertEquals(4 + BIG + 7, ByteBuffer.wrap(all).getInt());
            assertArrayEquals(expected(7, 'F'), Arrays.copyOfRange(all, 4, all.length));
        }
        await("release", () -> releases.get(7).get() == 1);
    }

    @Test
    void multiPartResponsesKeepRequestOrderWithPipelinedSends() throws Exception {
        InetSocketAddress address = start();
        char[] commands = {'f', 'E', 'D', 'F', 'f', 'E', 'E', 'D', 'f', 'F', 'E', 'f'};
        try (Socket s = connect(address, 0)) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int i = 0; i < commands.length; i++) {
                all.writeBytes(request(i, commands[i], commands[i] == 'E' ? 100 + i : 0));
            }
            s.getOutputStream().write(all.toByteArray());
            DataInputStream in = new DataInputStream(s.getInputStream());
            for (int i = 0; i < commands.length; i++) {
                byte[] body = readFrame(in);
                if (commands[i] == 'E') {
                    byte[] req = request(i, 'E', 100 + i);
                    assertArrayEquals(Arrays.copyOfRange(req, 4, req.length), body, "echo " + i);
                } else {
                    assertArrayEquals(expected(i, commands[i]), body, "multi-part response " + i);
                }
            }
        }
        await("releases", () -> releases.values().stream().allMatch(n -> n.get() == 1));
    }

    @Test
    void closingMidSendReleasesTheResponsesBeingWrittenAndQueued() throws Exception {
        InetSocketAddress address = start();
        try (Socket s = connect(address, 4096)) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(request(1, 'F', 0));
            all.writeBytes(request(2, 'F', 0));
            all.writeBytes(request(3, 'f', 0));
            s.getOutputStream().write(all.toByteArray());
            byte[] some = new byte[100_000];
            new DataInputStream(s.getInputStream()).readFully(some);
            s.setSoLinger(true, 0); // reset: the server's next transferTo fails
        }
        await("releases on close", () -> releases.size() == 3
                && releases.values().stream().allMatch(n -> n.get() == 1));
    }

    @Test
    void aResponseCompletingAfterTheConnectionClosedIsReleased() throws Exception {
        InetSocketAddress address = start();
        try (Socket s = connect(address, 0)) {
            s.getOutputStream().write(request(5, 'D', 0));
            await("the request", () -> releases.containsKey(5));
        }
        Thread.sleep(100); // the 50 ms completion arrives after the close
        await("release after close", () -> releases.get(5).get() == 1);
    }

    @Test
    void aWrongSizePrefixClosesTheConnectionAfterThePrecedingResponses() throws Exception {
        InetSocketAddress address = start();
        try (TestSupport.RawClient client = new TestSupport.RawClient(address)) {
            client.write(request(1, 'f', 0));
            client.write(request(2, 'B', 0));
            client.write(request(3, 'f', 0));
            assertArrayEquals(expected(1, 'f'), client.readFrame());
            client.expectClosedByServer();
        }
        // request 3 may or may not have been read before the close
        await("releases", () -> releases.size() >= 2 && releases.values().stream().allMatch(n -> n.get() == 1));
    }

    @Test
    void aFileRangePastTheEndOfTheFileClosesTheConnection() throws Exception {
        InetSocketAddress address = start();
        try (TestSupport.RawClient client = new TestSupport.RawClient(address)) {
            client.write(request(1, 'f', 0));
            client.write(request(2, 'T', 0));
            assertArrayEquals(expected(1, 'f'), client.readFrame());
            // the 10 bytes that exist may arrive; then the server gives up on the frame
            DataInputStream in = new DataInputStream(client.socket.getInputStream());
            assertEquals(8 + 20 + 7 - 4, in.readInt());
            int got = 0;
            try {
                while (in.read() >= 0) {
                    got++;
                }
            } catch (java.net.SocketException reset) {
                // closed as well
            }
            assertTrue(got < 8 + 20 + 7 - 4, "the frame was cut short: " + got);
        }
        await("releases", () -> releases.values().stream().allMatch(n -> n.get() == 1));
    }
}
