package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import kiri.launcher.bench.CodecCorpus;
import kiri.protocol.ApiMessage;
import kiri.protocol.Frames;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsRequest;
import kiri.protocol.message.ApiVersionsResponse;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.ListOffsetsRequest;
import kiri.protocol.message.RequestHeader;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every request of the codec corpus (each API the broker serves, old, flexible and tagged versions),
 * sent to a live broker as is and with random bytes of its body changed: each one gets a response or
 * a closed connection, never a hang, and afterwards the broker still serves a real producer.
 */
class HostileRequestsTest {
    private static final int MUTATIONS_PER_FRAME = 12;

    @ParameterizedTest
    @ValueSource(strings = {"memory://", "file:"})
    void mutatedRequestsOfEveryApiGetAnAnswerOrAClosedConnection(String storage, @TempDir Path dir) throws Exception {
        String url = storage.equals("file:") ? "file:" + dir.resolve("data") : storage;
        List<CodecCorpus.Frame> requests = CodecCorpus.build().stream().filter(CodecCorpus.Frame::request).toList();
        assertTrue(requests.size() > 50, "corpus has requests of every api: " + requests.size());
        Random random = new Random(42);
        int answered = 0;
        int closed = 0;
        int waiting = 0;
        List<String> unanswered = new java.util.ArrayList<>();
        try (Broker broker = InProcessBroker.start(url)) {
            int port = broker.localAddress().getPort();
            Map<ApiKey, short[]> served = served(port);
            for (CodecCorpus.Frame frame : requests) {
                byte[] original = frame.bytes().toArray(ValueLayout.JAVA_BYTE);
                for (int m = 0; m <= MUTATIONS_PER_FRAME; m++) {
                    byte[] body = original.clone();
                    if (m > 0) {
                        // keep the api key and version (first 4 bytes) so the mutation reaches the handler's decoder
                        int flips = 1 + random.nextInt(4);
                        for (int f = 0; f < flips && body.length > 4; f++) {
                            body[4 + random.nextInt(body.length - 4)] = (byte) random.nextInt(256);
                        }
                    }
                    Outcome outcome = exchange(port, body, frame);
                    short[] range = served.get(frame.api());
                    boolean supported = range != null && frame.version() >= range[0] && frame.version() <= range[1];
                    if (m == 0 && supported && outcome != Outcome.ANSWERED && !refusedByDesign(body, frame)) {
                        unanswered.add(frame.name() + ": " + outcome);
                    }
                    if (!supported && outcome != Outcome.CLOSED) {
                        unanswered.add(frame.name() + " (not served): " + outcome + ", expected the connection closed");
                    }
                    switch (outcome) {
                        case ANSWERED -> answered++;
                        case CLOSED -> closed++;
                        case WAITING -> waiting++;
                    }
                }
            }
            assertProducerStillWorks(InProcessBroker.bootstrap(broker));
        }
        System.out.printf("%s: %d request frames x %d: %d answered, %d closed, %d waiting%n", storage, requests.size(),
                MUTATIONS_PER_FRAME + 1, answered, closed, waiting);
        assertEquals(List.of(), unanswered, "every served request as the corpus has it is answered, others closed");
        assertTrue(answered >= requests.size() / 2, "most requests are answered: " + answered + " answered, "
                + closed + " closed, " + waiting + " waiting");
    }

    private enum Outcome { ANSWERED, CLOSED, WAITING }

    /**
     * APIs whose requests may rightly wait (a long poll, or a rebalance timeout the mutation may have
     * made long): for them no answer within a few seconds is fine too.
     */
    private static final java.util.Set<ApiKey> MAY_WAIT = java.util.EnumSet.of(
            ApiKey.FETCH, ApiKey.JOIN_GROUP,
            ApiKey.SYNC_GROUP);

    /** Sends one frame on a fresh connection and says what came back. */
    private static Outcome exchange(int port, byte[] body, CodecCorpus.Frame frame) throws IOException {
        boolean mayWait = MAY_WAIT.contains(frame.api());
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(mayWait ? 2_000 : 10_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(body.length);
            out.write(body);
            out.flush();
            if (frame.api() == ApiKey.PRODUCE && acksZero(body)) {
                return Outcome.ANSWERED; // no response by design
            }
            DataInputStream in = new DataInputStream(socket.getInputStream());
            try {
                int size = in.readInt();
                assertTrue(size >= 4 && size < 64 << 20, frame.name() + ": response size " + size);
                in.readFully(new byte[size]);
                return Outcome.ANSWERED;
            } catch (java.io.EOFException | java.net.SocketException e) {
                return Outcome.CLOSED;
            } catch (SocketTimeoutException e) {
                if (mayWait) {
                    return Outcome.WAITING;
                }
                throw new AssertionError(frame.name() + ": no response and no close within 10 s", e);
            }
        }
    }

    /** The broker's ApiVersions: api to {min, max}. */
    private static Map<ApiKey, short[]> served(int port) throws IOException {
        RequestHeader header = new RequestHeader().setRequestApiKey(ApiKey.API_VERSIONS.id).setRequestApiVersion((short) 3)
                .setCorrelationId(1).setClientId("hostile");
        MemorySegment request = Frames.encodeRequest(header, new ApiVersionsRequest().setClientSoftwareName("t")
                .setClientSoftwareVersion("1"), n -> MemorySegment.ofArray(new byte[(int) n]));
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(request.toArray(ValueLayout.JAVA_BYTE));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] response = new byte[in.readInt()];
            in.readFully(response);
            ApiVersionsResponse versions = (ApiVersionsResponse) Frames.readResponse(MemorySegment.ofArray(response),
                    ApiKey.API_VERSIONS, (short) 3, 1);
            Map<ApiKey, short[]> served = new java.util.EnumMap<>(ApiKey.class);
            for (ApiVersionsResponse.ApiVersion v : versions.apiKeys()) {
                served.put(ApiKey.forId(v.apiKey()), new short[] {v.minVersion(), v.maxVersion()});
            }
            return served;
        }
    }

    /**
     * Requests the corpus filled with values no client sends (it draws fields at random): an isolation
     * level other than 0 or 1, which the broker refuses by closing the connection.
     */
    private static boolean refusedByDesign(byte[] body, CodecCorpus.Frame frame) {
        ApiMessage request = Frames.readRequest(MemorySegment.ofArray(body)).body();
        byte isolation = switch (request) {
            case FetchRequest f -> f.isolationLevel();
            case ListOffsetsRequest l -> l.isolationLevel();
            default -> 0;
        };
        return isolation != 0 && isolation != 1;
    }

    /** A produce request whose (possibly mutated) acks field is 0: the broker rightly stays silent. */
    private static boolean acksZero(byte[] body) {
        try {
            MemorySegment frame = MemorySegment.ofArray(body);
            var request = Frames.readRequest(frame);
            return ((kiri.protocol.message.ProduceRequest) request.body()).acks() == 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void assertProducerStillWorks(String bootstrap) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
            for (int i = 0; i < 100; i++) {
                producer.send(new ProducerRecord<>("after-the-storm", "k" + i, "v" + i)).get();
            }
        }
    }
}
