package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import kiri.protocol.Frames;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsRequest;
import kiri.protocol.message.ApiVersionsResponse;
import kiri.protocol.message.RequestHeader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real broker process with a small file-descriptor limit ({@code prlimit --nofile}): clients exhaust its
 * descriptors, so {@code accept} fails with EMFILE; once they go, the broker accepts and serves new clients again
 * (its acceptor once died at the first such failure, and the broker stayed up, deaf). Its log lines are one line
 * each, ISO-8601 UTC first, with the port printed without a thousands separator.
 */
class FdExhaustionTest {
    /** Descriptors above what the idle broker has open: a few clients' worth. */
    private static final int HEADROOM = 24;
    private static final Pattern LOG_LINE =
            Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (TRACE|DEBUG|INFO|WARNING|ERROR) \\S+ .*");

    @TempDir
    Path dir;

    @Test
    void theBrokerAcceptsAgainAfterRunningOutOfFileDescriptors() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/prlimit")), "needs prlimit (util-linux)");
        int limit = idleDescriptors() + HEADROOM;
        Path stderr = dir.resolve("broker.err");
        Process broker = start(List.of("/usr/bin/prlimit", "--nofile=" + limit + ":" + limit, "--"), stderr);
        List<Socket> clients = new ArrayList<>();
        try {
            int port = port(broker);
            // more connections than descriptors: the kernel queues them, the broker's accept fails with EMFILE
            for (int i = 0; i < HEADROOM * 3; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                clients.add(s);
            }
            awaitLine(stderr, "accept on");
            for (Socket s : clients) {
                s.close();
            }
            clients.clear();
            assertTrue(broker.isAlive(), "the broker is still running");
            // new clients are served: a fresh connection's ApiVersions is answered (retried while the backlog of
            // closed connections drains)
            assertTrue(answersApiVersions(port), "a new client is served after the descriptors came back");
            List<String> lines = Files.readAllLines(stderr);
            for (String line : lines) {
                assertTrue(LOG_LINE.matcher(line).matches(), "one-line log format: " + line);
            }
            String failed = lines.stream().filter(l -> l.contains("accept on")).findFirst().orElseThrow();
            assertTrue(failed.contains(":" + port + " ") || failed.contains(":" + port + ","),
                    "the port as a plain number: " + failed);
            assertTrue(lines.size() < 60, "repeated failures are rate-limited: " + lines.size() + " lines");
        } finally {
            for (Socket s : clients) {
                s.close();
            }
            broker.destroy();
            assertTrue(broker.waitFor(30, TimeUnit.SECONDS), "the broker stops on SIGTERM");
        }
    }

    /** Descriptors a broker holds when idle (measured on one without a limit). */
    private int idleDescriptors() throws Exception {
        Process p = start(List.of(), dir.resolve("probe.err"));
        try {
            port(p);
            try (var fds = Files.list(Path.of("/proc", Long.toString(p.pid()), "fd"))) {
                return (int) fds.count();
            }
        } finally {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Process start(List<String> prefix, Path stderr) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC",
                "-p", BrokerCrashTest.brokerModulePath(), "-m", "kiri.launcher/kiri.launcher.Main", "broker",
                "--storage", "memory://", "--listener", "tcp://127.0.0.1:0"));
        return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    }

    private static final Pattern LISTENING = Pattern.compile("kiri broker listening on tcp://127\\.0\\.0\\.1:(\\d+) .*");

    /** Waits for the "listening" line and returns the port; keeps draining stdout. */
    private static int port(Process p) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(60, TimeUnit.SECONDS);
        assertNotNull(line, "the broker printed nothing");
        Thread.ofVirtual().start(() -> {
            try {
                while (out.readLine() != null) {
                    // discard
                }
            } catch (IOException ignored) {
                // gone
            }
        });
        var m = LISTENING.matcher(line);
        assertTrue(m.matches(), line);
        return Integer.parseInt(m.group(1));
    }

    private static void awaitLine(Path file, String text) throws Exception {
        GroupTestBroker.waitFor(() -> read(file).contains(text), "a line with '" + text + "' in " + file,
                java.time.Duration.ofSeconds(60));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean answersApiVersions(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(5_000);
                RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.API_VERSIONS.id)
                        .setRequestApiVersion((short) 3).setCorrelationId(7).setClientId("fd");
                MemorySegment request = Frames.encodeRequest(header, new ApiVersionsRequest().setClientSoftwareName("t")
                        .setClientSoftwareVersion("1"), n -> MemorySegment.ofArray(new byte[(int) n]));
                socket.getOutputStream().write(request.toArray(ValueLayout.JAVA_BYTE));
                DataInputStream in = new DataInputStream(socket.getInputStream());
                byte[] response = new byte[in.readInt()];
                in.readFully(response);
                ApiVersionsResponse versions = (ApiVersionsResponse) Frames.readResponse(MemorySegment.ofArray(response),
                        ApiKey.API_VERSIONS, (short) 3, 7);
                assertEquals(0, versions.errorCode());
                return true;
            } catch (IOException e) {
                Thread.sleep(100); // one of the backlog's closed connections, or still out of descriptors
            }
        }
        return false;
    }
}
