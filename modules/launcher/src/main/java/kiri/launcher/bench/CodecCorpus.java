package kiri.launcher.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import kiri.protocol.ApiMessage;
import kiri.protocol.Frames;
import kiri.protocol.Message;
import kiri.protocol.RawTaggedField;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.message.MetadataResponse;
import kiri.protocol.message.ProduceRequest;
import kiri.protocol.message.ProduceResponse;
import kiri.protocol.message.RequestHeader;
import kiri.protocol.record.RecordBatchBuilder;

/**
 * A corpus of request and response frames, built deterministically in code from the generated
 * message classes (so it ships with the project without binary files): for every API a broker
 * listens for, requests and responses in the oldest version, the newest non-flexible one, the
 * first flexible one and the newest, with every field set to a non-default value (known tagged
 * fields included) and an unknown tagged field on flexible versions; plus realistic produce
 * requests, produce responses and fetch responses carrying 1 KiB records in 16 KiB batches over
 * several partitions.
 *
 * <p>Frames are the bytes after the 4-byte size prefix, as the transport hands them over.
 */
public final class CodecCorpus {
    /** One frame: {@code bytes} excludes the size prefix; responses carry {@link #CORRELATION_ID}. */
    public record Frame(String name, ApiKey api, short version, boolean request, MemorySegment bytes) {
        public long size() {
            return bytes.byteSize();
        }

        Frame renamed(String newName) {
            return new Frame(newName, api, version, request, bytes);
        }
    }

    public static final int CORRELATION_ID = 7;
    public static final String CLIENT_ID = "kiri-bench";
    public static final int RECORD_SIZE = 1024;
    public static final int BATCH_SIZE = 16 * 1024;
    public static final int PARTITIONS = 4;
    public static final int BATCHES_PER_FETCHED_PARTITION = 2;
    public static final int METADATA_BROKERS = 3;
    public static final int METADATA_TOPICS = 20;
    public static final int METADATA_PARTITIONS = 8;

    private final Arena arena = Arena.ofAuto();
    private int counter;

    private CodecCorpus() {
    }

    /** The whole corpus, in api key order; identical bytes on every run. */
    public static List<Frame> build() {
        CodecCorpus c = new CodecCorpus();
        List<Frame> frames = new ArrayList<>();
        for (ApiKey api : ApiKey.values()) {
            if (api.highestVersion < 0 || !api.listeners.contains("broker")) {
                continue;
            }
            for (short v : versions(api)) {
                frames.add(c.request(api, v, c.fill(api.newRequest(), 0, v >= api.firstFlexibleVersion)));
                frames.add(c.response(api, v, c.fill(api.newResponse(), 0, v >= api.firstFlexibleVersion)));
            }
        }
        for (short v : new short[] {3, 8, 9, 12, 13}) {
            frames.add(c.request(ApiKey.PRODUCE, v, c.produceRequest()).renamed("Produce v" + v + " request, "
                    + PARTITIONS + " x 16 KiB batches of 1 KiB records"));
            frames.add(c.response(ApiKey.PRODUCE, v, c.produceResponse()).renamed("Produce v" + v + " response, "
                    + PARTITIONS + " partitions"));
        }
        for (short v : new short[] {4, 11, 12, 16, 18}) {
            frames.add(c.response(ApiKey.FETCH, v, c.fetchResponse()).renamed("Fetch v" + v + " response, " + PARTITIONS
                    + " partitions x " + BATCHES_PER_FETCHED_PARTITION + " x 16 KiB batches of 1 KiB records"));
        }
        for (short v : new short[] {0, 8, 9, 12, 13}) {
            frames.add(c.response(ApiKey.METADATA, v, c.metadataResponse()).renamed("Metadata v" + v + " response, "
                    + METADATA_BROKERS + " brokers, " + METADATA_TOPICS + " topics x " + METADATA_PARTITIONS + " partitions"));
        }
        frames.sort(Comparator.comparingInt((Frame f) -> f.api().id));
        return List.copyOf(frames);
    }

    /** Oldest, newest non-flexible, first flexible and newest version of an API. */
    static short[] versions(ApiKey api) {
        TreeSet<Short> v = new TreeSet<>();
        v.add(api.lowestVersion);
        v.add(api.highestVersion);
        short firstFlexible = api.firstFlexibleVersion;
        if (firstFlexible > api.lowestVersion && firstFlexible <= api.highestVersion) {
            v.add((short) (firstFlexible - 1));
        }
        if (firstFlexible >= api.lowestVersion && firstFlexible <= api.highestVersion) {
            v.add(firstFlexible);
        }
        short[] out = new short[v.size()];
        int i = 0;
        for (short s : v) {
            out[i++] = s;
        }
        return out;
    }

    // ---- the realistic ones

    /** One 16 KiB batch of 1 KiB records (as many as fit), idempotent producer fields set. */
    private MemorySegment batch(int partition, int sequence) {
        MemorySegment target = arena.allocate(BATCH_SIZE);
        RecordBatchBuilder b = new RecordBatchBuilder().wrap(target, 0);
        b.producer(4242L, (short) 3, sequence);
        byte[] key = ("key-" + partition).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] value = new byte[RECORD_SIZE];
        for (int i = 0; i < value.length; i++) {
            value[i] = (byte) ('a' + (i * 7 + partition) % 26);
        }
        long timestamp = 1_763_000_000_000L;
        while (b.tryAppend(timestamp++, key, value, List.of())) {
            // fill it
        }
        int size = b.build();
        return target.asSlice(0, size);
    }

    private ProduceRequest produceRequest() {
        List<ProduceRequest.PartitionProduceData> parts = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            parts.add(new ProduceRequest.PartitionProduceData().setIndex(p).setRecords(batch(p, 100 * p)));
        }
        return new ProduceRequest().setAcks((short) -1).setTimeoutMs(30_000).setTopicData(new ArrayList<>(List.of(
                new ProduceRequest.TopicProduceData().setName("orders").setTopicId(new UUID(0x1234L, 0x5678L))
                        .setPartitionData(parts))));
    }

    private ProduceResponse produceResponse() {
        List<ProduceResponse.PartitionProduceResponse> parts = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            parts.add(new ProduceResponse.PartitionProduceResponse().setIndex(p).setBaseOffset(1_000_000L + p * 15L)
                    .setLogAppendTimeMs(-1).setLogStartOffset(0));
        }
        return new ProduceResponse().setResponses(new ArrayList<>(List.of(new ProduceResponse.TopicProduceResponse()
                .setName("orders").setTopicId(new UUID(0x1234L, 0x5678L)).setPartitionResponses(parts))));
    }

    private FetchResponse fetchResponse() {
        List<FetchResponse.PartitionData> parts = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            MemorySegment records = arena.allocate((long) BATCH_SIZE * BATCHES_PER_FETCHED_PARTITION);
            long at = 0;
            for (int i = 0; i < BATCHES_PER_FETCHED_PARTITION; i++) {
                MemorySegment b = batch(p, i * 15);
                MemorySegment.copy(b, 0, records, at, b.byteSize());
                at += b.byteSize();
            }
            parts.add(new FetchResponse.PartitionData().setPartitionIndex(p).setHighWatermark(5_000_000L)
                    .setLastStableOffset(5_000_000L).setLogStartOffset(0).setRecords(records.asSlice(0, at)));
        }
        return new FetchResponse().setSessionId(0).setResponses(new ArrayList<>(List.of(
                new FetchResponse.FetchableTopicResponse().setTopic("orders").setTopicId(new UUID(0x1234L, 0x5678L))
                        .setPartitions(parts))));
    }

    private MetadataResponse metadataResponse() {
        List<MetadataResponse.MetadataResponseBroker> brokers = new ArrayList<>();
        for (int b = 0; b < METADATA_BROKERS; b++) {
            brokers.add(new MetadataResponse.MetadataResponseBroker().setNodeId(b).setHost("broker-" + b + ".kiri.internal")
                    .setPort(9092).setRack("rack-" + b));
        }
        List<MetadataResponse.MetadataResponseTopic> topics = new ArrayList<>();
        for (int t = 0; t < METADATA_TOPICS; t++) {
            List<MetadataResponse.MetadataResponsePartition> parts = new ArrayList<>();
            for (int p = 0; p < METADATA_PARTITIONS; p++) {
                int leader = (t + p) % METADATA_BROKERS;
                int[] replicas = {leader, (leader + 1) % METADATA_BROKERS, (leader + 2) % METADATA_BROKERS};
                parts.add(new MetadataResponse.MetadataResponsePartition().setPartitionIndex(p).setLeaderId(leader)
                        .setLeaderEpoch(5).setReplicaNodes(replicas).setIsrNodes(replicas).setOfflineReplicas(new int[0]));
            }
            topics.add(new MetadataResponse.MetadataResponseTopic().setName("topic-" + t)
                    .setTopicId(new UUID(t + 1L, 0xabcdefL * (t + 1))).setPartitions(parts)
                    .setTopicAuthorizedOperations(Integer.MIN_VALUE));
        }
        return new MetadataResponse().setBrokers(brokers).setClusterId("kiri-cluster-0001").setControllerId(1)
                .setTopics(topics).setClusterAuthorizedOperations(Integer.MIN_VALUE);
    }

    // ---- framing

    private Frame request(ApiKey api, short version, ApiMessage body) {
        RequestHeader header = new RequestHeader().setRequestApiKey(api.id).setRequestApiVersion(version)
                .setCorrelationId(CORRELATION_ID).setClientId(CLIENT_ID);
        MemorySegment framed = Frames.encodeRequest(header, body, arena::allocate);
        return new Frame(api.title + " v" + version + " request", api, version, true, framed.asSlice(4));
    }

    private Frame response(ApiKey api, short version, ApiMessage body) {
        MemorySegment framed = Frames.encodeResponse(CORRELATION_ID, api, version, body, arena::allocate);
        return new Frame(api.title + " v" + version + " response", api, version, false, framed.asSlice(4));
    }

    // ---- generic filling: every setter gets a deterministic non-default value

    private static final int MAX_DEPTH = 4;
    private static final int LIST_LENGTH = 2;

    /** Sets every field of {@code m} (recursively) to a non-default value; adds an unknown tag when flexible. */
    private <M extends Message> M fill(M m, int depth, boolean flexible) {
        Method[] methods = m.getClass().getMethods();
        java.util.Arrays.sort(methods, Comparator.comparing(Method::getName)); // deterministic order
        for (Method method : methods) {
            if (!method.getName().startsWith("set") || method.getParameterCount() != 1
                    || Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            Object value = valueFor(method.getParameterTypes()[0], method.getGenericParameterTypes()[0], depth, flexible);
            if (value == null) {
                continue;
            }
            try {
                method.invoke(m, value);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot fill " + m.getClass().getName() + "." + method.getName(), e);
            }
        }
        if (flexible) {
            MemorySegment data = arena.allocate(3);
            data.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            data.set(ValueLayout.JAVA_BYTE, 1, (byte) 2);
            data.set(ValueLayout.JAVA_BYTE, 2, (byte) 3);
            m.unknownTaggedFields().add(new RawTaggedField(10_000 + depth, data)); // above every known tag
        }
        return m;
    }

    private Object valueFor(Class<?> type, Type generic, int depth, boolean flexible) {
        int n = ++counter;
        if (type == String.class) {
            return "name-" + n;
        } else if (type == int.class) {
            return 100 + n;
        } else if (type == long.class) {
            return 1_000_000L + n;
        } else if (type == short.class) {
            return (short) (10 + n % 100);
        } else if (type == byte.class) {
            return (byte) (1 + n % 3);
        } else if (type == boolean.class) {
            return true;
        } else if (type == double.class) {
            return 0.5 + n;
        } else if (type == UUID.class) {
            return new UUID(n, 31L * n + 7);
        } else if (type == MemorySegment.class) {
            MemorySegment s = arena.allocate(16);
            for (int i = 0; i < 16; i++) {
                s.set(ValueLayout.JAVA_BYTE, i, (byte) (n + i));
            }
            return s;
        } else if (type == byte[].class) {
            return new byte[] {1, 2, (byte) n};
        } else if (type == int[].class) {
            return new int[] {n, n + 1};
        } else if (type == long[].class) {
            return new long[] {n, n + 1L};
        } else if (type == short[].class) {
            return new short[] {(short) n, (short) (n + 1)};
        } else if (type == List.class && generic instanceof ParameterizedType pt) {
            Type element = pt.getActualTypeArguments()[0];
            if (!(element instanceof Class<?> elementClass) || elementClass == RawTaggedField.class) {
                return null;
            }
            if (depth + 1 >= MAX_DEPTH && Message.class.isAssignableFrom(elementClass)) {
                return new ArrayList<>();
            }
            List<Object> list = new ArrayList<>();
            for (int i = 0; i < LIST_LENGTH; i++) {
                list.add(valueFor(elementClass, elementClass, depth + 1, flexible));
            }
            return list;
        } else if (type == Integer.class) {
            return 100 + n;
        } else if (type == Long.class) {
            return 1_000_000L + n;
        } else if (Message.class.isAssignableFrom(type)) {
            if (depth >= MAX_DEPTH) {
                return null;
            }
            try {
                return fill((Message) type.getConstructor().newInstance(), depth + 1, flexible);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot make " + type.getName(), e);
            }
        }
        return null;
    }
}
