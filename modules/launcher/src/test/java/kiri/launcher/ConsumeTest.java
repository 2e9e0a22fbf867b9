package kiri.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Produce and consume end to end through an in-process broker on memory://, with kafka-clients
 * (assign(), no consumer group) and kcat.
 */
class ConsumeTest {
    private static final long BASE_TS = KeyedRecords.BASE_TS;
    private static final long GIVE_UP_MS = KeyedRecords.GIVE_UP_MS;

    private static Broker broker;
    private static String bootstrap;

    @BeforeAll
    static void start() throws Exception {
        broker = InProcessBroker.start("memory://");
        bootstrap = InProcessBroker.bootstrap(broker);
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static Admin admin() {
        return KeyedRecords.admin(bootstrap);
    }

    private static void createTopic(String name, int partitions) throws Exception {
        KeyedRecords.createTopic(bootstrap, name, partitions);
    }

    private static KafkaProducer<String, byte[]> producer() {
        return KeyedRecords.producer(bootstrap);
    }

    private static KafkaConsumer<String, byte[]> consumer(String reset) {
        return consumer(reset, new Properties());
    }

    private static KafkaConsumer<String, byte[]> consumer(String reset, Properties extra) {
        return KeyedRecords.consumer(bootstrap, reset, extra);
    }

    private static List<TopicPartition> partitions(String topic, int n) {
        return KeyedRecords.partitions(topic, n);
    }

    private static byte[] value(int i) {
        return KeyedRecords.value(i);
    }

    /** Sends {@code n} records i = 0..n-1 (key "key-i", timestamp BASE_TS + i) and returns where each landed. */
    private static RecordMetadata[] produce(String topic, int n, Integer partition) throws Exception {
        return KeyedRecords.produce(bootstrap, topic, 0, n, partition);
    }

    @Test
    void twoHundredThousandKeyedRecordsComeBackIdenticalAndInOrder() throws Exception {
        String topic = "consume-all";
        int n = 200_000;
        createTopic(topic, 6);
        // The consumer starts first, at the (empty) beginning, so it long-polls while the producer writes.
        List<TopicPartition> tps = partitions(topic, 6);
        CompletableFuture<List<ConsumerRecord<String, byte[]>>> consumed =
                CompletableFuture.supplyAsync(() -> KeyedRecords.consume(bootstrap, tps, n));
        RecordMetadata[] landed = produce(topic, n, null);
        List<ConsumerRecord<String, byte[]>> records = consumed.get(GIVE_UP_MS + 30_000, TimeUnit.MILLISECONDS);
        Map<Integer, Long> nextOffset = KeyedRecords.check(records, landed);
        assertEquals(6, nextOffset.size(), "the keys spread over all 6 partitions");
        try (Admin admin = admin()) {
            long total = 0;
            for (TopicPartition tp : tps) {
                long end = admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset();
                assertEquals(nextOffset.get(tp.partition()), end, "consumed up to the high watermark of " + tp);
                total += end;
            }
            assertEquals(n, total);
        }
    }

    @Test
    void seekToBeginningAndEndAndOffsetsForTimes() throws Exception {
        String topic = "times";
        createTopic(topic, 2);
        // 1000 records, i on partition i % 2, timestamp BASE_TS + 10 * i
        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (int i = 0; i < 1000; i++) {
                producer.send(new ProducerRecord<>(topic, i % 2, BASE_TS + 10L * i, "k" + i, value(i)));
            }
            producer.flush();
        }
        List<TopicPartition> tps = partitions(topic, 2);
        TopicPartition p0 = tps.get(0);
        TopicPartition p1 = tps.get(1);
        try (KafkaConsumer<String, byte[]> consumer = consumer("earliest")) {
            consumer.assign(tps);
            assertEquals(Map.of(p0, 0L, p1, 0L), consumer.beginningOffsets(tps));
            assertEquals(Map.of(p0, 500L, p1, 500L), consumer.endOffsets(tps));
            consumer.seekToEnd(tps);
            assertEquals(500L, consumer.position(p0));
            consumer.seekToBeginning(List.of(p1));
            assertEquals(0L, consumer.position(p1));

            // first record with timestamp >= T: i = 11 is the first odd i with 10 * i >= 105, offset (11 - 1) / 2
            Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(Map.of(p1, BASE_TS + 105,
                    p0, BASE_TS + 105));
            assertEquals(new OffsetAndTimestamp(5, BASE_TS + 110), withoutEpoch(found.get(p1)));
            assertEquals(new OffsetAndTimestamp(6, BASE_TS + 120), withoutEpoch(found.get(p0)));
            assertNull(consumer.offsetsForTimes(Map.of(p0, BASE_TS + 100_000)).get(p0), "no record that late");
            assertEquals(0L, consumer.offsetsForTimes(Map.of(p0, 0L)).get(p0).offset());

            consumer.seek(p1, found.get(p1).offset());
            consumer.pause(List.of(p0));
            ConsumerRecord<String, byte[]> first = pollOne(consumer);
            assertEquals("k11", first.key(), "seeking to offsetsForTimes' answer reads the record found");
            assertEquals(BASE_TS + 110, first.timestamp());
        }
        Properties committed = new Properties();
        committed.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<String, byte[]> consumer = consumer("earliest", committed)) {
            consumer.assign(tps);
            assertEquals(Map.of(p0, 500L, p1, 500L), consumer.endOffsets(tps), "no open transaction: LSO = HWM");
            int n = 0;
            long giveUp = System.currentTimeMillis() + GIVE_UP_MS;
            while (n < 1000 && System.currentTimeMillis() < giveUp) {
                n += consumer.poll(Duration.ofMillis(200)).count();
            }
            assertEquals(1000, n, "a read_committed consumer reads every non-transactional record");
        }
        try (Admin admin = admin()) {
            var max = admin.listOffsets(Map.of(p1, OffsetSpec.maxTimestamp())).all().get().get(p1);
            assertEquals(499L, max.offset(), "the record with the largest timestamp");
            assertEquals(BASE_TS + 9990, max.timestamp());
            assertEquals(500L, admin.listOffsets(Map.of(p1, OffsetSpec.latest())).all().get().get(p1).offset());
            assertEquals(0L, admin.listOffsets(Map.of(p1, OffsetSpec.earliest())).all().get().get(p1).offset());
        }
    }

    private static OffsetAndTimestamp withoutEpoch(OffsetAndTimestamp o) {
        assertNotNull(o);
        return new OffsetAndTimestamp(o.offset(), o.timestamp());
    }

    private static ConsumerRecord<String, byte[]> pollOne(KafkaConsumer<String, byte[]> consumer) {
        long giveUp = System.currentTimeMillis() + GIVE_UP_MS;
        while (System.currentTimeMillis() < giveUp) {
            var records = consumer.poll(Duration.ofMillis(200));
            if (!records.isEmpty()) {
                return records.iterator().next();
            }
        }
        throw new AssertionError("no record arrived");
    }

    @Test
    void aPositionBeyondTheEndIsResetPerAutoOffsetReset() throws Exception {
        String topic = "reset";
        createTopic(topic, 1);
        produce(topic, 100, 0);
        TopicPartition tp = new TopicPartition(topic, 0);

        try (KafkaConsumer<String, byte[]> consumer = consumer("earliest")) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 1_000);
            ConsumerRecord<String, byte[]> first = pollOne(consumer);
            assertEquals(0L, first.offset(), "earliest: back to the log start");
            assertEquals("key-0", first.key());
        }
        try (KafkaConsumer<String, byte[]> consumer = consumer("latest")) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 1_000);
            long giveUp = System.currentTimeMillis() + GIVE_UP_MS;
            while (consumer.position(tp) == 1_000 && System.currentTimeMillis() < giveUp) {
                assertTrue(consumer.poll(Duration.ofMillis(200)).isEmpty(), "nothing beyond the end to read");
            }
            assertEquals(100L, consumer.position(tp), "latest: reset to the high watermark");
            produce(topic, 1, 0);
            assertEquals(100L, pollOne(consumer).offset(), "and reads what comes next");
        }
        try (KafkaConsumer<String, byte[]> consumer = consumer("none")) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 1_000);
            OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class, () -> {
                long giveUp = System.currentTimeMillis() + GIVE_UP_MS;
                while (System.currentTimeMillis() < giveUp) {
                    consumer.poll(Duration.ofMillis(200));
                }
            });
            assertEquals(Map.of(tp, 1_000L), e.offsetOutOfRangePartitions());
        }
    }

    @Test
    void deleteRecordsMovesTheEarliestOffset() throws Exception {
        String topic = "trim";
        createTopic(topic, 1);
        produce(topic, 100, 0);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin()) {
            long low = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(40))).lowWatermarks().get(tp).get()
                    .lowWatermark();
            assertEquals(40L, low);
            assertEquals(40L, admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset());
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(101))).all().get());
            assertEquals(org.apache.kafka.common.errors.OffsetOutOfRangeException.class, e.getCause().getClass());
        }
        try (KafkaConsumer<String, byte[]> consumer = consumer("earliest")) {
            consumer.assign(List.of(tp));
            assertEquals(Map.of(tp, 40L), consumer.beginningOffsets(List.of(tp)));
            consumer.seekToBeginning(List.of(tp));
            ConsumerRecord<String, byte[]> first = pollOne(consumer);
            assertEquals(40L, first.offset(), "records before the new log start are gone");
            assertEquals("key-40", first.key());
        }
    }

    @Test
    void fetchSessionsAnswerIncrementally() throws Exception {
        String topic = "sessions";
        createTopic(topic, 3);
        produce(topic, 10, 0);
        try (Socket socket = new Socket("127.0.0.1", broker.localAddress().getPort())) {
            socket.setSoTimeout(30_000);
            var out = new DataOutputStream(socket.getOutputStream());
            var in = new DataInputStream(socket.getInputStream());
            int[] correlation = {0};

            FetchRequestData full = fetch(0, 0, 0);
            full.topics().add(fetchTopic(topic, new long[] {0, 0, 0}, 0, 1, 2));
            FetchResponseData first = fetch(out, in, full, correlation);
            assertEquals(0, first.errorCode());
            int session = first.sessionId();
            assertTrue(session != 0, "a full fetch with epoch 0 opens a session");
            assertEquals(Map.of(0, 10, 1, 0, 2, 0), recordCounts(first), "a full response has every partition");

            FetchRequestData unchanged = fetch(session, 1, 0);
            unchanged.topics().add(fetchTopic(topic, new long[] {10}, 0));
            assertEquals(Map.of(), recordCounts(fetch(out, in, unchanged, correlation)),
                    "nothing new anywhere: an incremental response is empty");

            produce(topic, 5, 1);
            FetchRequestData waiting = fetch(session, 2, 20_000); // names no partition: the session remembers them
            assertEquals(Map.of(1, 5), recordCounts(fetch(out, in, waiting, correlation)),
                    "only the partition with news, after a long poll that new data ended");

            FetchRequestData forget = fetch(session, 3, 0);
            forget.topics().add(fetchTopic(topic, new long[] {5}, 1));
            forget.forgottenTopicsData().add(new FetchRequestData.ForgottenTopic().setTopic(topic).setPartitions(List.of(2)));
            assertEquals(Map.of(), recordCounts(fetch(out, in, forget, correlation)));
            produce(topic, 3, 2);
            assertEquals(Map.of(), recordCounts(fetch(out, in, fetch(session, 4, 0), correlation)),
                    "a forgotten partition is no longer fetched");

            assertEquals(Errors.INVALID_FETCH_SESSION_EPOCH.code(),
                    fetch(out, in, fetch(session, 9, 0), correlation).errorCode());
            assertEquals(0, fetch(out, in, fetch(session, -1, 0), correlation).sessionId(), "epoch -1 closes it");
            assertEquals(Errors.FETCH_SESSION_ID_NOT_FOUND.code(),
                    fetch(out, in, fetch(session, 5, 0), correlation).errorCode());
        }
    }

    private static FetchRequestData fetch(int session, int epoch, int maxWaitMs) {
        return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(maxWaitMs).setMinBytes(1).setMaxBytes(1 << 20)
                .setSessionId(session).setSessionEpoch(epoch);
    }

    private static FetchRequestData.FetchTopic fetchTopic(String topic, long[] offsets, int... partitions) {
        FetchRequestData.FetchTopic t = new FetchRequestData.FetchTopic().setTopic(topic);
        for (int i = 0; i < partitions.length; i++) {
            t.partitions().add(new FetchRequestData.FetchPartition().setPartition(partitions[i])
                    .setFetchOffset(offsets[i]).setPartitionMaxBytes(1 << 20));
        }
        return t;
    }

    /** Fetch v12 (topics by name) over a raw socket. */
    private static FetchResponseData fetch(DataOutputStream out, DataInputStream in, FetchRequestData data,
            int[] correlation) throws IOException {
        short version = 12;
        RequestHeader header = new RequestHeader(ApiKeys.FETCH, version, "test", ++correlation[0]);
        ByteBuffer frame = new FetchRequest(data, version).serializeWithHeader(header);
        byte[] b = new byte[frame.remaining()];
        frame.duplicate().get(b);
        out.writeInt(b.length);
        out.write(b);
        out.flush();
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        return ((FetchResponse) AbstractResponse.parseResponse(ByteBuffer.wrap(response), header)).data();
    }

    /** Records per partition in a response. */
    private static Map<Integer, Integer> recordCounts(FetchResponseData response) {
        Map<Integer, Integer> out = new HashMap<>();
        for (FetchResponseData.FetchableTopicResponse t : response.responses()) {
            for (FetchResponseData.PartitionData p : t.partitions()) {
                int n = 0;
                if (p.records() != null) {
                    for (var batch : ((MemoryRecords) p.records()).batches()) {
                        for (var ignored : batch) {
                            n++;
                        }
                    }
                }
                out.put(p.partitionIndex(), n);
            }
        }
        return out;
    }

    @Test
    void retentionRunsOnTheBrokersHousekeepingTimer() throws Exception {
        String topic = "retained";
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("retention.ms", "60000"))))
                    .all().get();
        }
        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (int i = 0; i < 50; i++) { // two hours old: expired under a one-minute retention
                producer.send(new ProducerRecord<>(topic, 0, BASE_TS - 3_600_000L + i, "k" + i, value(i)));
            }
            producer.flush();
        }
        try (Admin admin = admin()) {
            long giveUp = System.currentTimeMillis() + GIVE_UP_MS;
            long earliest = 0;
            while (earliest == 0 && System.currentTimeMillis() < giveUp) {
                Thread.sleep(200);
                earliest = admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset();
            }
            assertEquals(50L, earliest, "every expired batch was deleted by housekeeping");
            assertEquals(50L, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset());
        }
    }

    @Test
    void fetchByteLimitsFollowKafka() throws Exception {
        String topic = "limits";
        createTopic(topic, 2);
        try (KafkaProducer<String, byte[]> producer = producer()) {
            for (int i = 0; i < 8; i++) { // one batch per send: flushed one by one
                producer.send(new ProducerRecord<>(topic, i % 2, "k" + i, value(i))).get();
            }
        }
        try (Socket socket = new Socket("127.0.0.1", broker.localAddress().getPort())) {
            socket.setSoTimeout(30_000);
            var out = new DataOutputStream(socket.getOutputStream());
            var in = new DataInputStream(socket.getInputStream());
            int[] correlation = {0};

            FetchRequestData tiny = fetch(0, FINAL, 0).setMaxBytes(1);
            tiny.topics().add(fetchTopic(topic, new long[] {0, 0}, 0, 1));
            FetchResponseData r = fetch(out, in, tiny, correlation);
            assertEquals(0, r.sessionId(), "epoch -1: no session");
            assertEquals(Map.of(0, 1, 1, 0), recordCounts(r),
                    "one whole batch for the first partition with data even beyond max bytes, none for the next");

            FetchRequestData perPartition = fetch(0, FINAL, 0);
            FetchRequestData.FetchTopic t = fetchTopic(topic, new long[] {1, 0}, 0, 1);
            t.partitions().forEach(p -> p.setPartitionMaxBytes(1));
            perPartition.topics().add(t);
            assertEquals(Map.of(0, 1, 1, 0), recordCounts(fetch(out, in, perPartition, correlation)),
                    "partition max bytes: the first partition still gets one batch, the second none");

            FetchRequestData all = fetch(0, FINAL, 0).setIsolationLevel((byte) 1);
            all.topics().add(fetchTopic(topic, new long[] {0, 2}, 0, 1));
            assertEquals(Map.of(0, 4, 1, 2), recordCounts(fetch(out, in, all, correlation)),
                    "within the limits everything from the fetch offsets (read_committed: no transactions here)");

            FetchRequestData beyond = fetch(0, FINAL, 0);
            beyond.topics().add(fetchTopic(topic, new long[] {99}, 1));
            FetchResponseData.PartitionData oor = fetch(out, in, beyond, correlation).responses().get(0).partitions().get(0);
            assertEquals(Errors.OFFSET_OUT_OF_RANGE.code(), oor.errorCode());
            assertEquals(4L, oor.highWatermark(), "the error carries the high watermark");
            assertEquals(0L, oor.logStartOffset(), "and the log start offset");

            FetchRequestData atEnd = fetch(0, FINAL, 20_000).setMinBytes(1);
            atEnd.topics().add(fetchTopic(topic, new long[] {4, 4}, 0, 1));
            CompletableFuture<FetchResponseData> polling = CompletableFuture.supplyAsync(() -> {
                try {
                    return fetch(out, in, atEnd, correlation);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            produce(topic, 1, 1);
            assertEquals(Map.of(0, 0, 1, 1), recordCounts(polling.get(60, TimeUnit.SECONDS)),
                    "a long poll at the end answers with the record that arrived");
        }
    }

    private static final int FINAL = -1;

    @Test
    void kcatRoundTripIsByteIdentical() throws Exception {
        String topic = "kcat-roundtrip";
        createTopic(topic, 1);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            lines.append("message ").append(i).append(" \t ünïcödé ✓ ").append("z".repeat(i % 50)).append('\n');
        }
        byte[] input = lines.toString().getBytes(StandardCharsets.UTF_8);
        kcat(input, "-P", "-t", topic, "-p", "0");
        byte[] output = kcat(new byte[0], "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q");
        assertEquals(new String(input, StandardCharsets.UTF_8).length(), new String(output, StandardCharsets.UTF_8).length());
        assertArrayEquals(input, output, "kcat -C prints exactly what kcat -P read");
    }

    /** Runs kcat with stdin, returns its stdout; stderr goes to a file shown on failure. */
    private static byte[] kcat(byte[] stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kcat", "-b", bootstrap));
        command.addAll(List.of(args));
        Path err = Files.createTempFile("kcat", ".err");
        Process p;
        try {
            p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("kcat is needed for this test: apt-get install kcat (.ci/run does)", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(stdin);
        }
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        boolean finished = p.waitFor(120, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly();
        }
        String errors = Files.readString(err);
        Files.delete(err);
        assertTrue(finished, "kcat finished: " + errors);
        assertEquals(0, p.exitValue(), errors);
        try {
            return out.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError(e);
        }
    }
}
