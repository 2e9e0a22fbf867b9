package kiri.client;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import kiri.compress.BatchCompression;
import kiri.protocol.ProtocolException;
import kiri.protocol.message.ApiKey;
import kiri.protocol.message.FetchRequest;
import kiri.protocol.message.FetchResponse;
import kiri.protocol.record.BatchCursor;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordCursor;

/**
 * A simple consumer of assigned partitions: ListOffsets to find where to start, then Fetch from
 * each partition's leader. Records are handed to a {@link RecordHandler} as views of the response
 * frame (valid only during the call); compressed batches (gzip, snappy, lz4, zstd) are decompressed
 * into a heap copy first, at most {@link Config#maxDecompressedBytes} per batch. Control batches are
 * skipped.
 * Not thread-safe: one thread polls.
 */
public final class Consumer implements AutoCloseable {
    /** Start at the log start offset. */
    public static final long EARLIEST = -2;
    /** Start at the log end offset (only records produced from now on). */
    public static final long LATEST = -1;

    /**
     * Fetch sizing, as in Kafka's consumer (fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes,
     * max.partition.fetch.bytes), and the most one compressed batch may decompress to (more is an error).
     */
    public record Config(int maxWaitMs, int minBytes, int maxBytes, int partitionMaxBytes, int maxDecompressedBytes) {
        public Config(int maxWaitMs, int minBytes, int maxBytes, int partitionMaxBytes) {
            this(maxWaitMs, minBytes, maxBytes, partitionMaxBytes, BatchCompression.DEFAULT_MAX_RECORDS_BYTES);
        }

        public static Config defaults() {
            return new Config(500, 1, 50 << 20, 1 << 20);
        }
    }

    /** One record; key and value are null for null, else views valid only during the call. */
    @FunctionalInterface
    public interface RecordHandler {
        void onRecord(String topic, int partition, long offset, long timestamp, MemorySegment key, MemorySegment value,
                RecordCursor record);
    }

    private record Assigned(String topic, int partition, int leader) {
    }

    private final Cluster cluster;
    private final Config config;
    private final Map<Assigned, long[]> positions = new LinkedHashMap<>();
    private final BatchCursor batches = new BatchCursor();
    private final RecordCursor records = new RecordCursor();
    private final RecordBatch plain = new RecordBatch();

    public Consumer(Cluster cluster, Config config) {
        this.cluster = cluster;
        this.config = config;
    }

    /**
     * Assigns partitions of {@code topic} (null or empty: all) and positions each at
     * {@code start}: {@link #EARLIEST}, {@link #LATEST} or an offset.
     */
    public void assign(String topic, List<Integer> partitions, long start) throws IOException {
        Cluster.TopicInfo info = cluster.topic(topic, false);
        List<Assigned> added = new ArrayList<>();
        for (Cluster.PartitionInfo p : info.partitions()) {
            if (partitions == null || partitions.isEmpty() || partitions.contains(p.partition())) {
                added.add(new Assigned(topic, p.partition(), p.leader()));
            }
        }
        if (added.isEmpty()) {
            throw new ClientException("topic " + topic + " has none of the partitions " + partitions);
        }
        Map<Assigned, Long> offsets = start >= 0 ? null : listOffsets(added, start);
        for (Assigned a : added) {
            positions.put(a, new long[] {start >= 0 ? start : offsets.get(a)});
        }
    }

    private Map<Assigned, Long> listOffsets(List<Assigned> parts, long timestamp) throws IOException {
        Map<TopicPartition, Integer> leaders = new HashMap<>();
        for (Assigned a : parts) {
            leaders.put(new TopicPartition(a.topic(), a.partition()), a.leader());
        }
        Map<Assigned, Long> out = new HashMap<>();
        OffsetLookup.list(cluster, leaders, timestamp).forEach((tp, o) ->
                out.put(new Assigned(tp.topic(), tp.partition(), leaders.get(tp)), o));
        return out;
    }

    /** Moves a partition's position (it must be assigned). */
    public void seek(String topic, int partition, long offset) {
        for (Map.Entry<Assigned, long[]> e : positions.entrySet()) {
            if (e.getKey().partition() == partition && e.getKey().topic().equals(topic)) {
                e.getValue()[0] = offset;
                return;
            }
        }
        throw new IllegalStateException(topic + "-" + partition + " is not assigned");
    }

    /** Drops every assignment (for a group rebalance). */
    public void unassignAll() {
        positions.clear();
    }

    public boolean hasAssignment() {
        return !positions.isEmpty();
    }

    /** Next offset to read, per topic and partition. */
    public Map<String, Map<Integer, Long>> positionsByTopic() {
        Map<String, Map<Integer, Long>> out = new LinkedHashMap<>();
        positions.forEach((a, p) -> out.computeIfAbsent(a.topic(), t -> new java.util.TreeMap<>()).put(a.partition(), p[0]));
        return out;
    }

    /** Next offset to read per "topic-partition". */
    public Map<String, Long> positions() {
        Map<String, Long> out = new LinkedHashMap<>();
        positions.forEach((a, p) -> out.put(a.topic() + "-" + a.partition(), p[0]));
        return out;
    }

    /**
     * Fetches once from every leader (waiting up to {@code maxWaitMs} for data) and hands each new
     * record to {@code handler}, stopping after {@code maxRecords}; returns how many it handed over.
     */
    public int poll(RecordHandler handler, long maxRecords) throws IOException {
        Map<Integer, List<Assigned>> byLeader = new LinkedHashMap<>();
        for (Assigned a : positions.keySet()) {
            byLeader.computeIfAbsent(a.leader(), k -> new ArrayList<>()).add(a);
        }
        List<CompletableFuture<NodeConnection.Response>> inFlight = new ArrayList<>();
        for (Map.Entry<Integer, List<Assigned>> e : byLeader.entrySet()) {
            Map<String, FetchRequest.FetchTopic> topics = new LinkedHashMap<>();
            for (Assigned a : e.getValue()) {
                topics.computeIfAbsent(a.topic(), t -> new FetchRequest.FetchTopic().setTopic(t)).partitions()
                        .add(new FetchRequest.FetchPartition().setPartition(a.partition()).setCurrentLeaderEpoch(-1)
                                .setFetchOffset(positions.get(a)[0]).setLastFetchedEpoch(-1).setLogStartOffset(-1)
                                .setPartitionMaxBytes(config.partitionMaxBytes()));
            }
            FetchRequest request = new FetchRequest().setReplicaId(-1).setMaxWaitMs(config.maxWaitMs())
                    .setMinBytes(config.minBytes()).setMaxBytes(config.maxBytes()).setIsolationLevel((byte) 0)
                    .setSessionId(0).setSessionEpoch(-1).setTopics(new ArrayList<>(topics.values()));
            inFlight.add(cluster.node(e.getKey()).sendRaw(ApiKey.FETCH, request, true));
        }
        int handed = 0;
        Duration wait = cluster.timeout().plusMillis(config.maxWaitMs());
        IOException failure = null;
        for (CompletableFuture<NodeConnection.Response> f : inFlight) {
            NodeConnection.Response response;
            try {
                response = NodeConnection.await(f, wait);
            } catch (IOException e) {
                failure = e;
                continue;
            }
            try (response) {
                if (handed < maxRecords) {
                    handed += handle((FetchResponse) response.body(), handler, maxRecords - handed);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return handed;
    }

    private int handle(FetchResponse response, RecordHandler handler, long max) {
        ClientException.check(response.errorCode(), null, "fetch");
        int handed = 0;
        for (FetchResponse.FetchableTopicResponse t : response.responses()) {
            for (FetchResponse.PartitionData p : t.partitions()) {
                ClientException.check(p.errorCode(), null, "fetch from " + t.topic() + "-" + p.partitionIndex());
                long[] position = null;
                for (Map.Entry<Assigned, long[]> e : positions.entrySet()) {
                    if (e.getKey().partition() == p.partitionIndex() && e.getKey().topic().equals(t.topic())) {
                        position = e.getValue();
                    }
                }
                if (position == null || p.records() == null) {
                    continue;
                }
                batches.wrap(p.records().memory());
                while (handed < max && batches.next()) {
                    RecordBatch batch = batches.batch();
                    if (batch.available() < RecordBatch.HEADER_SIZE || batch.sizeInBytes() > batch.available()) {
                        break; // a partial batch at the end of a fetch: read it next time
                    }
                    if (batch.lastOffset() < position[0]) {
                        continue;
                    }
                    if (!batch.isControl()) {
                        // compressed: iterate an uncompressed heap copy; uncompressed: the frame itself
                        records.wrap(batch.isCompressed() ? decompressed(batch) : batch);
                        while (handed < max && records.next()) {
                            long offset = records.offset();
                            if (offset < position[0]) {
                                continue;
                            }
                            handler.onRecord(t.topic(), p.partitionIndex(), offset, records.timestamp(),
                                    records.hasKey() ? records.key() : null, records.hasValue() ? records.value() : null,
                                    records);
                            position[0] = offset + 1;
                            handed++;
                        }
                        if (handed >= max) {
                            break;
                        }
                    }
                    position[0] = Math.max(position[0], batch.lastOffset() + 1);
                }
            }
        }
        return handed;
    }

    private RecordBatch decompressed(RecordBatch batch) {
        try {
            return plain.wrap(BatchCompression.decompress(batch, config.maxDecompressedBytes()), 0);
        } catch (ProtocolException e) {
            throw new ClientException("cannot read a compressed batch: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        positions.clear();
    }
}
