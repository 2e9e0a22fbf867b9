package kiri.client;

import static kiri.protocol.BigEndian.INT;
import static kiri.protocol.BigEndian.LONG;
import static kiri.protocol.BigEndian.SHORT;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.zip.CRC32C;
import kiri.protocol.record.RecordBatch;
import kiri.protocol.record.RecordBatchBuilder;
import kiri.transport.Buffer;

/**
 * One record batch of the {@link Producer}: being filled, waiting, or in flight; reused (with its
 * pooled buffer and callback arrays) once its records completed, so nothing is allocated per record.
 *
 * <p>Threading: guarded by the {@link RecordAccumulator}'s lock while it is open or queued; the sender
 * owns it while it is in flight, and its callbacks run unlocked on the thread that completes it.
 */
final class ProducerBatch {

    final RecordBatchBuilder builder = new RecordBatchBuilder();
    Buffer buffer;
    int capacity;
    ProducerTopic.Partition partition;
    long createdNanos;
    /** The batch's first sequence once sent by an idempotent producer, else -1. */
    int sequence;
    boolean built;
    int attempts;
    long retryAtNanos;
    /** The outcome of the last attempt: null and the base offset (-1 if unknown), or the error. */
    Throwable error;
    long baseOffset;
    /** Set when the last attempt's failure is to be retried. */
    boolean retry;
    long[] tokens = new long[64];
    Producer.Callback[] callbacks = new Producer.Callback[64];
    int count;
    int size;

    void add(long token, Producer.Callback cb) {
        if (count == tokens.length) {
            tokens = Arrays.copyOf(tokens, count * 2);
            callbacks = Arrays.copyOf(callbacks, count * 2);
        }
        tokens[count] = token;
        callbacks[count] = cb;
        count++;
    }

    /** Completes every record: offsets from {@code baseOffset} (all -1 if it is unknown). */
    void succeed(long baseOffset) {
        int partition = this.partition.index;
        for (int i = 0; i < count; i++) {
            callbacks[i].onCompletion(tokens[i], partition, baseOffset < 0 ? -1 : baseOffset + i, null);
        }
    }

    void fail(Throwable error) {
        int partition = this.partition.index;
        for (int i = 0; i < count; i++) {
            callbacks[i].onCompletion(tokens[i], partition, -1, error);
        }
    }

    /** Rewrites a built batch's producer id, epoch and base sequence, and its CRC. */
    void restamp(long producerId, short producerEpoch, int sequence) {
        MemorySegment s = buffer.segment();
        s.set(LONG, RecordBatch.PRODUCER_ID_OFFSET, producerId);
        s.set(SHORT, RecordBatch.PRODUCER_EPOCH_OFFSET, producerEpoch);
        s.set(INT, RecordBatch.BASE_SEQUENCE_OFFSET, sequence);
        CRC32C crc = new CRC32C();
        int from = RecordBatch.ATTRIBUTES_OFFSET;
        crc.update(s.asSlice(from, size - from).asByteBuffer());
        s.set(INT, RecordBatch.CRC_OFFSET, (int) crc.getValue());
        this.sequence = sequence;
    }
}
