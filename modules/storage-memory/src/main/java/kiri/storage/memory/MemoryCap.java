package kiri.storage.memory;

import java.util.concurrent.atomic.AtomicLong;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;

/**
 * The most record bytes a {@code memory://} store keeps ({@code memory://?max.bytes=N}; default half the JVM's
 * maximum heap, where the batches live). A produce that would go beyond it fails with KAFKA_STORAGE_ERROR, the
 * retriable code Kafka answers when a log directory cannot take a write: the producer retries until its delivery
 * timeout, and succeeds if retention or DeleteRecords frees room meanwhile. Nothing stored is lost or evicted.
 * Transaction markers are always stored (a few bytes each; refusing one would leave a transaction open).
 *
 * <p>Thread-safe: partitions reserve and release under their own locks, concurrently.
 */
final class MemoryCap {
    private final long max;
    private final AtomicLong used = new AtomicLong();

    MemoryCap(long max) {
        if (max <= 0) {
            throw new IllegalArgumentException("max.bytes must be > 0, got " + max);
        }
        this.max = max;
    }

    /** Half the heap limit ({@code -Xmx}). */
    static long defaultMax() {
        return Runtime.getRuntime().maxMemory() / 2;
    }

    /** The cap from a URL's {@code max.bytes} value (null: the default). */
    static MemoryCap parse(String value, String url) {
        if (value == null) {
            return new MemoryCap(defaultMax());
        }
        try {
            return new MemoryCap(Long.parseLong(value.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("storage URL '" + url + "': max.bytes must be a positive number of bytes, got '"
                    + value + "'");
        }
    }

    /** Takes {@code bytes} of room for a batch of {@code tp}. @throws StorageException KAFKA_STORAGE_ERROR when full */
    void reserve(long bytes, Object tp) {
        long now;
        do {
            now = used.get();
            if (now + bytes > max) {
                throw new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "memory:// store is full: " + now + " of "
                        + max + " bytes (max.bytes) used, cannot store " + bytes + " more for " + tp);
            }
        } while (!used.compareAndSet(now, now + bytes));
    }

    /** Takes room without the check (transaction markers). */
    void add(long bytes) {
        used.addAndGet(bytes);
    }

    void release(long bytes) {
        used.addAndGet(-bytes);
    }

    long used() {
        return used.get();
    }

    long max() {
        return max;
    }
}
