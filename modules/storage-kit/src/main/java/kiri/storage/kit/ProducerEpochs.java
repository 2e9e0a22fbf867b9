package kiri.storage.kit;

import java.util.function.LongSupplier;
import kiri.protocol.ErrorCode;
import kiri.storage.api.ProducerIdAndEpoch;
import kiri.storage.api.StorageException;

/**
 * Kafka's InitProducerId rules for a transactional id that already has a producer, shared by every
 * engine: bump the epoch (fencing the previous incarnation), move to a new producer id once the epoch
 * is exhausted, honour KIP-360 re-initialisation with the caller's current (id, epoch), and recognise
 * a retry of a bump whose response was lost. Pure functions; thread-safe.
 */
public final class ProducerEpochs {
    private ProducerEpochs() {}

    /** Whether the epoch can no longer be bumped (Kafka reserves {@code Short.MAX_VALUE}). */
    public static boolean isExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    /**
     * The producer id and epoch InitProducerId returns.
     *
     * @param current  the transactional id's producer now; {@link ProducerIdAndEpoch#NONE} if it has none yet
     * @param previous the producer it had before the last bump ({@code NONE} if none); lets a retried bump succeed
     * @param expected the (id, epoch) the client sent; {@code NONE} for a plain (re)start
     * @param newId    allocates a fresh producer id
     * @throws StorageException PRODUCER_FENCED when {@code expected} is neither the current producer nor a retry
     */
    public static ProducerIdAndEpoch reinit(ProducerIdAndEpoch current, ProducerIdAndEpoch previous,
                                            ProducerIdAndEpoch expected, LongSupplier newId) {
        if (current.isNone()) return new ProducerIdAndEpoch(newId.getAsLong(), (short) 0);
        boolean plain = expected.isNone() || expected.epoch() < 0;
        if (!plain && expected.producerId() != current.producerId()
                && !(expected.producerId() == previous.producerId() && expected.epoch() == previous.epoch())) {
            throw fenced(expected, current);
        }
        if (plain || expected.equals(current)) return bump(current, newId);
        // The client still holds what we replaced last time: its bump succeeded but the answer was lost.
        if (expected.equals(previous)) return current;
        throw fenced(expected, current);
    }

    /**
     * The next (id, epoch) after fencing or a transaction-version-2 end: epoch + 1, or a new id once exhausted.
     */
    public static ProducerIdAndEpoch bump(ProducerIdAndEpoch current, LongSupplier newId) {
        return isExhausted(current.epoch())
                ? new ProducerIdAndEpoch(newId.getAsLong(), (short) 0)
                : new ProducerIdAndEpoch(current.producerId(), (short) (current.epoch() + 1));
    }

    /**
     * Checks that a transactional request comes from the transactional id's current producer.
     *
     * @throws StorageException INVALID_PRODUCER_ID_MAPPING (another producer id), PRODUCER_FENCED (another epoch)
     */
    public static void verify(String transactionalId, ProducerIdAndEpoch current, ProducerIdAndEpoch request) {
        if (request.producerId() != current.producerId()) {
            throw new StorageException(ErrorCode.INVALID_PRODUCER_ID_MAPPING, "The producer id " + request.producerId()
                    + " does not match the current producer id " + current.producerId()
                    + " of transactional id '" + transactionalId + "'");
        }
        if (request.epoch() != current.epoch()) throw fenced(request, current);
    }

    private static StorageException fenced(ProducerIdAndEpoch request, ProducerIdAndEpoch current) {
        return new StorageException(ErrorCode.PRODUCER_FENCED, "Producer " + request.producerId() + " with epoch "
                + request.epoch() + " has been fenced by producer " + current.producerId() + " epoch " + current.epoch());
    }
}
