package kiri.transport;

import static kiri.transport.TestSupport.PATIENCE;
import static kiri.transport.TestSupport.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server over TLS (a key store keytool makes): pipelined frames that share TLS records, frames much larger
 * than a record, back-pressure with plaintext held inside TLS, TLS 1.2 and 1.3, and a bad handshake that closes
 * only its own connection. Nothing leaks from the pool.
 */
class TlsServerTest {
    private static final String PASSWORD = "secret";
    @TempDir
    static Path dir;
    private static TlsConfig tls;
    private static SSLContext client;

    @BeforeAll
    static void certificates() throws Exception {
        Path keys = dir.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", keys.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), out);
        tls = new TlsConfig(TlsFiles.context(keys, "PKCS12", PASSWORD, null, null, null), "none",
                List.of("TLSv1.3", "TLSv1.2"));
        KeyStore server = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keys)) {
            server.load(in, PASSWORD.toCharArray());
        }
        Certificate cert = server.getCertificate("server");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        client = SSLContext.getInstance("TLS");
        client.init(null, tmf.getTrustManagers(), null);
    }

    private static SSLSocket connect(Server server, String protocol) throws IOException {
        SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", server.localAddress().getPort());
        s.setEnabledProtocols(new String[] {protocol});
        s.setSoTimeout((int) PATIENCE.toMillis());
        return s;
    }

    @Test
    void pipelinedSmallAndLargeFramesEchoInOrderOverTls13AndTls12() throws Exception {
        try (BufferPool pool = new BufferPool();
                Server server = Server.start(TestSupport.local(TestSupport.ECHO, pool).tls(tls)
                        .maxInFlightPerConnection(4).build())) {
            for (String protocol : List.of("TLSv1.3", "TLSv1.2")) {
                try (SSLSocket s = connect(server, protocol)) {
                    ByteArrayOutputStream all = new ByteArrayOutputStream();
                    int n = 500;
                    for (int i = 0; i < n; i++) { // many frames per TLS record; 4 in flight: the rest waits inside TLS
                        all.write(request(i, 'e', i % 3 == 0 ? 50_000 : 20));
                    }
                    byte[] bytes = all.toByteArray();
                    Thread writer = Thread.ofPlatform().start(() -> {
                        try {
                            OutputStream out = s.getOutputStream();
                            out.write(bytes);
                            out.flush();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    for (int i = 0; i < n; i++) {
                        byte[] body = new byte[in.readInt()];
                        in.readFully(body);
                        byte[] expected = request(i, 'e', i % 3 == 0 ? 50_000 : 20);
                        assertArrayEquals(Arrays.copyOfRange(expected, 4, expected.length), body, "frame " + i);
                    }
                    writer.join();
                    assertEquals(protocol, s.getSession().getProtocol());
                }
            }
            TestSupport.await("connections closed", () -> server.connectionCount() == 0);
            TestSupport.await("every buffer returned", () -> pool.outstanding() == 0);
        }
    }

    @Test
    void aBadHandshakeClosesOnlyItsConnection() throws Exception {
        try (BufferPool pool = new BufferPool();
                Server server = Server.start(TestSupport.local(TestSupport.ECHO, pool).tls(tls).build());
                SSLSocket good = connect(server, "TLSv1.3")) {
            good.startHandshake();
            try (Socket bad = new Socket("127.0.0.1", server.localAddress().getPort())) {
                bad.setSoTimeout((int) PATIENCE.toMillis());
                bad.getOutputStream().write(request(1, 'e', 100)); // plaintext on a TLS port
                InputStream in = bad.getInputStream();
                while (in.read() >= 0) {
                    // an alert, then the end
                }
            }
            SSLContext untrusting = SSLContext.getInstance("TLS");
            untrusting.init(null, null, null); // the JDK's CAs: the self-signed server certificate fails
            try (SSLSocket refused = (SSLSocket) untrusting.getSocketFactory().createSocket("127.0.0.1",
                    server.localAddress().getPort())) {
                assertThrows(javax.net.ssl.SSLHandshakeException.class, refused::startHandshake);
            }
            byte[] frame = request(7, 'e', 10);
            good.getOutputStream().write(frame);
            expectEcho(good, frame); // the good connection is served
        }
    }
    /** A TLS connection reads into the same budgeted frame buffers: a frame that does not fit waits, then is served. */
    @Test
    void aFrameThatDoesNotFitTheRequestBudgetWaitsOverTlsToo() throws Exception {
        List<CompletableFuture<Void>> held = new CopyOnWriteArrayList<>();
        List<Integer> handled = new CopyOnWriteArrayList<>();
        RequestHandler holding = (connection, frame) -> {
            handled.add(TestSupport.seq(frame));
            CompletableFuture<Void> answer = new CompletableFuture<>();
            Response r = TestSupport.echo(connection, frame);
            held.add(answer);
            return answer.thenApply(ignored -> r);
        };
        try (BufferPool pool = new BufferPool();
                Server server = Server.start(TestSupport.local(holding, pool).tls(tls).maxQueuedRequestBytes(1 << 20).build());
                SSLSocket a = connect(server, "TLSv1.3");
                SSLSocket b = connect(server, "TLSv1.3")) {
            byte[] first = request(1, 'e', 600 << 10);
            byte[] second = request(2, 'e', 600 << 10);
            a.getOutputStream().write(first);
            TestSupport.await("the first frame to reach the handler", () -> held.size() == 1);
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    b.getOutputStream().write(second); // blocks while the server does not read
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            TestSupport.await("the second frame to wait for the budget",
                    () -> server.connectionCount() == 2 && server.queuedRequestBytes() == first.length - 4);
            assertEquals(List.of(1), handled, "600 KiB + 600 KiB exceed the 1 MiB budget");
            held.get(0).complete(null);
            expectEcho(a, first);
            // the handler records the frame before it holds the answer: wait for the answer to be held
            TestSupport.await("the waiting frame to be served", () -> held.size() == 2);
            held.get(1).complete(null);
            expectEcho(b, second);
            writer.join();
            TestSupport.await("every reservation returned", () -> server.queuedRequestBytes() == 0);
        }
    }

    /** SendAndClose over TLS: the response arrives, then the end; its buffer and the request's budget come back. */
    @Test
    void sendAndCloseWritesTheLastResponseAndReleasesEverything() throws Exception {
        RequestHandler last = (connection, frame) -> CompletableFuture.completedFuture(
                new Response.SendAndClose(TestSupport.echoFrame(connection.pool(), frame)));
        try (BufferPool pool = new BufferPool();
                Server server = Server.start(TestSupport.local(last, pool).tls(tls).build());
                SSLSocket s = connect(server, "TLSv1.3")) {
            byte[] frame = request(3, 'e', 100_000);
            s.getOutputStream().write(frame);
            expectEcho(s, frame);
            assertEquals(-1, s.getInputStream().read(), "closed after its last response");
            TestSupport.await("the connection to close", () -> server.connectionCount() == 0);
            TestSupport.await("every buffer returned", () -> pool.outstanding() == 0);
            assertEquals(0, server.queuedRequestBytes());
        }
    }

    private static void expectEcho(SSLSocket s, byte[] frame) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        assertArrayEquals(Arrays.copyOfRange(frame, 4, frame.length), body);
    }
}
