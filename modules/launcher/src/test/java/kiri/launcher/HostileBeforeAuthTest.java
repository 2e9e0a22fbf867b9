package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import kiri.launcher.bench.CodecCorpus;
import kiri.protocol.message.ApiKey;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The codec corpus (every API, old, flexible and tagged versions), as is and with random bytes changed, sent to a
 * SASL listener before authentication and through TLS: requests other than ApiVersions and the SASL ones close the
 * connection unanswered, nothing hangs or crashes, and afterwards the broker still serves an authenticated producer.
 */
class HostileBeforeAuthTest {
    private static final Set<ApiKey> BEFORE_AUTH = EnumSet.of(ApiKey.API_VERSIONS, ApiKey.SASL_HANDSHAKE,
            ApiKey.SASL_AUTHENTICATE);
    private static final int MUTATIONS = 3;

    private enum Outcome { ANSWERED, CLOSED }

    @Test
    void theCorpusBeforeAuthenticationOnPlaintextAndThroughTls(@TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.make(dir);
        List<BrokerListener> listeners = BrokerListener.parse("SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0", null, null);
        Map<String, String> props = new HashMap<>();
        props.put("sasl.jaas.config", SaslBroker.JAAS);
        props.put("ssl.keystore.location", certs.serverKeys().toString());
        props.put("ssl.keystore.password", TestCertificates.PASSWORD);
        List<CodecCorpus.Frame> requests = CodecCorpus.build().stream().filter(CodecCorpus.Frame::request).toList();
        SSLContext tls = clientContext(certs);
        Random random = new Random(18);
        List<String> wrong = new ArrayList<>();
        int closed = 0;
        try (Broker broker = Broker.start(new Broker.Settings(listeners, "memory://", null, 0, true, 1, 0,
                SecuritySettings.from(props, listeners)))) {
            for (String listener : List.of("SASL_PLAINTEXT", "SASL_SSL")) {
                int port = broker.localAddress(listener).getPort();
                for (CodecCorpus.Frame frame : requests) {
                    byte[] original = frame.bytes().toArray(ValueLayout.JAVA_BYTE);
                    for (int m = 0; m <= MUTATIONS; m++) {
                        byte[] body = original.clone();
                        for (int f = 0; m > 0 && f < 1 + random.nextInt(4) && body.length > 4; f++) {
                            body[4 + random.nextInt(body.length - 4)] = (byte) random.nextInt(256);
                        }
                        Socket socket = listener.equals("SASL_SSL") ? tls.getSocketFactory().createSocket("127.0.0.1", port)
                                : new Socket("127.0.0.1", port);
                        Outcome outcome = exchange(socket, body);
                        if (!BEFORE_AUTH.contains(frame.api()) && outcome != Outcome.CLOSED) {
                            wrong.add(listener + " " + frame.name() + " mutation " + m + ": answered before authentication");
                        }
                        closed += outcome == Outcome.CLOSED ? 1 : 0;
                    }
                }
            }
            Map<String, Object> p = new HashMap<>(SaslTest.client("PLAIN", "alice", "alice-secret"));
            p.put("bootstrap.servers", "127.0.0.1:" + broker.localAddress("SASL_PLAINTEXT").getPort());
            p.put("key.serializer", StringSerializer.class.getName());
            p.put("value.serializer", StringSerializer.class.getName());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
                producer.send(new ProducerRecord<>("after-the-storm", "k", "v")).get();
            }
        }
        assertEquals(List.of(), wrong);
        assertTrue(closed > requests.size(), "most frames closed their connection: " + closed);
    }

    private static Outcome exchange(Socket socket, byte[] body) throws IOException {
        try (socket) {
            socket.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(body.length);
            out.write(body);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            try {
                int size = in.readInt();
                assertTrue(size >= 4 && size < 64 << 20, "response size " + size);
                in.readFully(new byte[size]);
                return Outcome.ANSWERED;
            } catch (EOFException | SocketException | javax.net.ssl.SSLException e) {
                return Outcome.CLOSED;
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no response and no close within 30 s", e);
            }
        }
    }

    private static SSLContext clientContext(TestCertificates certs) throws Exception {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(certs.clientTrust())) {
            trust.load(in, TestCertificates.PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, tmf.getTrustManagers(), null);
        return c;
    }
}
