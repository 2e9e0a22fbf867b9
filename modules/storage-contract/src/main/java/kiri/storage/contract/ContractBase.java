package kiri.storage.contract;

import static kiri.testsupport.Assert.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.Records;
import kiri.storage.api.AbortedTransaction;
import kiri.storage.api.FetchResult;
import kiri.storage.api.IsolationLevel;
import kiri.storage.api.NewTopic;
import kiri.storage.api.PartitionOffsets;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.TopicInfo;
import kiri.storage.api.TopicPartition;
import kiri.testsupport.KafkaBatches;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * What every contract test uses: a fresh store per test opened with a clock the test moves, and
 * helpers that observe the engine as a Kafka client would (offsets written into the produced batch,
 * fetched bytes parsed and CRC-checked by kafka-clients).
 */
public abstract class ContractBase {
    protected static final IsolationLevel RU = IsolationLevel.READ_UNCOMMITTED;
    protected static final IsolationLevel RC = IsolationLevel.READ_COMMITTED;
    /** Where the clock starts: a realistic epoch time, so record timestamps near it are "now". */
    protected static final long START_MS = 1_700_000_000_000L;
    private static final int FETCH_MAX_BYTES = 4 << 20;

    protected final AtomicLong now = new AtomicLong(START_MS);
    private final InstantSource clock = new InstantSource() {
        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(now.get());
        }

        @Override
        public long millis() {
            return now.get();
        }
    };
    private ContractEngine engine;
    /** The open storage; replaced by {@link #reopen()}. */
    protected Storage storage;

    /** A new engine for one test (the suite closes it after the test). */
    protected abstract ContractEngine newEngine();

    @BeforeEach
    final void openEngine() {
        engine = newEngine();
        storage = engine.open(context());
    }

    @AfterEach
    final void closeEngine() throws Exception {
        try {
            if (storage != null) storage.close();
        } finally {
            engine.close();
        }
    }

    protected final StorageContext context() {
        return new StorageContext(1, null, "localhost", 9092, clock);
    }

    /** Skips the test, with the engine's reason, unless the engine has {@code capability}. */
    protected final void requires(Capability capability) {
        String gap = engine.gaps().get(capability);
        assumeTrue(gap == null, () -> "engine lacks " + capability + ": " + gap);
    }

    /** Closes the storage and opens the same store again (requires {@link Capability#REOPEN}). */
    protected final void reopen() {
        requires(Capability.REOPEN);
        storage.close();
        storage = null;
        storage = engine.open(context());
    }

    // ---- topics ------------------------------------------------------------------------------

    protected final TopicInfo topic(String name, int partitions, Map<String, String> configs) {
        return await(storage.createTopic(new NewTopic(name, partitions, (short) 1, configs), false));
    }

    protected final TopicInfo topic(String name, int partitions) {
        return topic(name, partitions, Map.of());
    }

    // ---- records -----------------------------------------------------------------------------

    /** Produces {@code batch} and returns the base offset the engine wrote into it. */
    protected final long produce(TopicPartition tp, MemorySegment batch) {
        return produce(null, tp, batch);
    }

    protected final long produce(String transactionalId, TopicPartition tp, MemorySegment batch) {
        await(storage.produce(transactionalId, tp, batch));
        return kiri.protocol.record.RecordBatch.baseOffset(batch);
    }

    protected final PartitionOffsets offsets(TopicPartition tp) {
        return await(storage.offsets(tp));
    }

    /** What one fetch returned, parsed by kafka-clients. */
    protected record Fetched(List<RecordBatch> batches, List<AbortedTransaction> aborted, PartitionOffsets offsets) {
        /** Offsets of the data records (control batches left out). */
        public List<Long> dataOffsets() {
            List<Long> out = new ArrayList<>();
            for (RecordBatch b : batches) if (!b.isControlBatch()) for (Record r : b) out.add(r.offset());
            return out;
        }

        /** Values of the data records, in offset order. */
        public List<String> values() {
            List<String> out = new ArrayList<>();
            for (RecordBatch b : batches) if (!b.isControlBatch()) for (Record r : b) out.add(KafkaBatches.value(r));
            return out;
        }

        /** Every batch's base offset, control batches included. */
        public List<Long> baseOffsets() {
            return batches.stream().map(RecordBatch::baseOffset).toList();
        }
    }

    protected final Fetched fetch(TopicPartition tp, long offset, IsolationLevel isolation) {
        return fetch(tp, offset, FETCH_MAX_BYTES, true, isolation);
    }

    protected final Fetched fetch(TopicPartition tp, long offset, int maxBytes, boolean minOneBatch, IsolationLevel isolation) {
        try (FetchResult r = await(storage.fetch(tp, offset, maxBytes, minOneBatch, isolation))) {
            return new Fetched(KafkaBatches.parse(bytes(r)), r.abortedTransactions(), r.offsets());
        }
    }

    /** The result's bytes, in memory or file ranges alike. */
    private static byte[] bytes(FetchResult r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Records.Region region : r.batches()) {
            switch (region) {
                case Records.Memory s -> out.writeBytes(s.segment().toArray(ValueLayout.JAVA_BYTE));
                case Records.FileRegion f -> {
                    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(f.length()));
                    try {
                        while (buf.hasRemaining()) {
                            if (f.channel().read(buf, f.position() + buf.position()) < 0) throw new IOException("short file range");
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    out.writeBytes(buf.array());
                }
            }
        }
        return out.toByteArray();
    }

    // ---- waiting -----------------------------------------------------------------------------

    /** Whether {@code f} completes (normally or not) within a generous deadline; never asserts on timing. */
    protected static boolean completes(CompletableFuture<?> f) {
        try {
            f.get(30, TimeUnit.SECONDS);
            return true;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
