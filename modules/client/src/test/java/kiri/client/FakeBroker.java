package kiri.client;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.ApiMessage;
import kiri.protocol.ErrorCode;
import kiri.protocol.Frames;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.ApiVersionsResponse;
import kiri.protocol.message.InitProducerIdResponse;
import kiri.protocol.message.MetadataResponse;
import kiri.protocol.message.ProduceRequest;
import kiri.protocol.message.ProduceResponse;

/**
 * A one-broker, one-partition-per-topic Kafka stand-in for producer tests: answers ApiVersions,
 * Metadata, InitProducerId and Produce. Produce follows Kafka's idempotence rules per producer id
 * (in-sequence batches are appended, a repeat of the last batch is answered with its offset, a gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER), unless {@link #inject} returns an error for the attempt.
 */
final class FakeBroker implements AutoCloseable {
    /** One produce attempt of one batch, as the broker saw it. */
    record Attempt(long producerId, int sequence, int count) {
    }

    /** Answers nothing and drops the connection after handling the batch normally (the response is lost). */
    static final short DROP_AFTER_APPEND = -2;

    /**
     * Appends nothing more of the request (earlier partitions of it are appended), answers it and every
     * later request on the connection with nothing, and keeps the connection open: a broker that hangs.
     */
    static final short NO_ANSWER = -3;

    /** Returns an error code to answer instead of the normal handling, 0, {@link #DROP_AFTER_APPEND} or {@link #NO_ANSWER}. */
    interface Injector {
        short inject(Attempt attempt, int attemptIndex);
    }


    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    /** Appended batches, in offset order. */
    final List<Attempt> log = new CopyOnWriteArrayList<>();
    final AtomicInteger metadataRequests = new AtomicInteger();
    final AtomicInteger initProducerIdRequests = new AtomicInteger();
    private final Map<Long, Integer> nextSequence = new HashMap<>();
    /** pid -> its last 5 batches {firstSeq, lastSeq, baseOffset}, as Kafka remembers them for duplicates. */
    private final Map<Long, java.util.ArrayDeque<long[]>> lastBatches = new HashMap<>();
    private long nextOffset;
    private long nextProducerId = 1000;
    volatile Injector injector = (a, i) -> (short) 0;

    FakeBroker() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(this::accept);
    }

    String bootstrap() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread.ofPlatform().daemon().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            boolean hung = false;
            while (true) {
                byte[] frame = new byte[in.readInt()];
                in.readFully(frame);
                if (hung) {
                    continue;
                }
                Frames.Request request = Frames.readRequest(MemorySegment.ofArray(frame));
                ApiMessage response = handle(request);
                if (response == null) {
                    hung = true; // NO_ANSWER: answers here would be matched to the unanswered request
                    continue;
                }
                MemorySegment encoded = Frames.encodeResponse(request.header().correlationId(), request.api(),
                        request.version(), response, size -> MemorySegment.ofArray(new byte[(int) size]));
                out.write(encoded.toArray(ValueLayout.JAVA_BYTE));
                out.flush();
            }
        } catch (IOException | RuntimeException e) {
            // closed
        }
    }

    private ApiMessage handle(Frames.Request request) {
        return switch (request.api()) {
            case API_VERSIONS -> {
                List<ApiVersionsResponse.ApiVersion> keys = new ArrayList<>();
                for (ApiKey k : List.of(ApiKey.API_VERSIONS, ApiKey.METADATA, ApiKey.INIT_PRODUCER_ID, ApiKey.PRODUCE)) {
                    keys.add(new ApiVersionsResponse.ApiVersion().setApiKey((short) k.id)
                            .setMinVersion((short) k.lowestVersion).setMaxVersion((short) k.highestVersion));
                }
                yield new ApiVersionsResponse().setApiKeys(keys);
            }
            case METADATA -> {
                metadataRequests.incrementAndGet();
                MetadataResponse r = new MetadataResponse().setClusterId("fake").setControllerId(0);
                r.setBrokers(new ArrayList<>(List.of(new MetadataResponse.MetadataResponseBroker().setNodeId(0)
                        .setHost("127.0.0.1").setPort(server.getLocalPort()))));
                List<MetadataResponse.MetadataResponseTopic> topics = new ArrayList<>();
                var req = (kiri.protocol.message.MetadataRequest) request.body();
                if (req.topics() != null) {
                    for (var t : req.topics()) {
                        topics.add(new MetadataResponse.MetadataResponseTopic().setName(t.name())
                                .setTopicId(java.util.UUID.nameUUIDFromBytes(t.name().getBytes()))
                                .setPartitions(new ArrayList<>(List.of(new MetadataResponse.MetadataResponsePartition()
                                        .setPartitionIndex(0).setLeaderId(0).setLeaderEpoch(0)
                                        .setReplicaNodes(new int[] {0}).setIsrNodes(new int[] {0})))));
                    }
                }
                yield r.setTopics(topics);
            }
            case INIT_PRODUCER_ID -> {
                initProducerIdRequests.incrementAndGet();
                synchronized (this) {
                    yield new InitProducerIdResponse().setProducerId(nextProducerId++).setProducerEpoch((short) 0);
                }
            }
            case PRODUCE -> {
                ProduceRequest req = (ProduceRequest) request.body();
                List<ProduceResponse.TopicProduceResponse> topics = new ArrayList<>();
                for (ProduceRequest.TopicProduceData t : req.topicData()) {
                    List<ProduceResponse.PartitionProduceResponse> parts = new ArrayList<>();
                    for (ProduceRequest.PartitionProduceData p : t.partitionData()) {
                        MemorySegment batch = p.records().memory();
                        Attempt a = new Attempt(batch.get(LONG, 43), batch.get(INT, 53), batch.get(INT, 57));
                        ProduceResponse.PartitionProduceResponse r = produce(a);
                        if (r == null) {
                            yield null;
                        }
                        parts.add(r.setIndex(p.index()));
                    }
                    topics.add(new ProduceResponse.TopicProduceResponse().setName(t.name()).setPartitionResponses(parts));
                }
                yield new ProduceResponse().setResponses(topics);
            }
            default -> throw new IllegalStateException("unexpected " + request.api());
        };
    }

    private synchronized ProduceResponse.PartitionProduceResponse produce(Attempt a) {
        int index = attempts.size();
        attempts.add(a);
        short injected = injector.inject(a, index);
        ProduceResponse.PartitionProduceResponse r = new ProduceResponse.PartitionProduceResponse().setBaseOffset(-1);
        if (injected == NO_ANSWER) {
            return null;
        }
        if (injected != 0 && injected != DROP_AFTER_APPEND) {
            return r.setErrorCode(injected);
        }
        if (a.producerId() < 0) { // not idempotent: always appended
            long base = nextOffset;
            nextOffset += a.count();
            log.add(a);
            return r.setBaseOffset(base);
        }
        int expected = nextSequence.getOrDefault(a.producerId(), 0);
        for (long[] last : lastBatches.getOrDefault(a.producerId(), new java.util.ArrayDeque<>())) {
            if (last[0] == a.sequence() && last[1] == a.sequence() + a.count() - 1) {
                return r.setBaseOffset(last[2]); // a retry of a stored batch: its original offset
            }
        }
        if (a.sequence() != expected) {
            return r.setErrorCode(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER.code());
        }
        long base = nextOffset;
        nextOffset += a.count();
        nextSequence.put(a.producerId(), expected + a.count());
        java.util.ArrayDeque<long[]> recent = lastBatches.computeIfAbsent(a.producerId(), k -> new java.util.ArrayDeque<>());
        recent.addLast(new long[] {a.sequence(), a.sequence() + a.count() - 1, base});
        if (recent.size() > 5) {
            recent.removeFirst();
        }
        log.add(a);
        if (injected == DROP_AFTER_APPEND) {
            throw new IllegalStateException("dropping the connection"); // serve() closes the socket
        }
        return r.setBaseOffset(base);
    }

    /** Drops every open connection (as a broker restart would). */
    void dropConnections() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        sockets.clear();
    }

    @Override
    public void close() throws IOException {
        server.close();
        dropConnections();
    }
}
