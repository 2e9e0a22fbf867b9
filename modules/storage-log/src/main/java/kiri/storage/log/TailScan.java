package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import kiri.protocol.record.RecordBatch;

/**
 * What a segment file holds from the first byte recovery could not accept to its end: only zeros (a preallocated zone,
 * or a length a crash made durable before the data), or whole CRC-valid batches further on, which means the bad spot
 * is damage in the middle of data rather than a crash's torn tail. Found by looking for a plausible batch at every
 * position (the magic byte, a length that fits, then the CRC: a false match needs a CRC32C collision).
 *
 * @param zeros          every byte from the bad spot on is zero
 * @param batches        intact batches found after the bad spot
 * @param records        the records they hold
 * @param maxNextOffset  the offset after the last of them ({@code -1} if none)
 */
record TailScan(boolean zeros, int batches, long records, long maxNextOffset) {
    private static final int CHUNK = 1 << 20;
    private static final int MAGIC_AT = 16;
    private static final int MIN_LENGTH = RecordBatch.HEADER_SIZE - RecordBatch.LOG_OVERHEAD;

    /** Scans {@code [from, fileSize)} of {@code log}. Recovery only: reads the rest of the file once. */
    static TailScan of(FileChannel log, long from, long fileSize) throws IOException {
        FileWindow chunks = new FileWindow(log, fileSize, CHUNK);
        FileWindow batchesWindow = new FileWindow(log, fileSize, CHUNK);
        boolean zeros = true;
        int batches = 0;
        long records = 0;
        long maxNext = -1L;
        long resumeAt = from; // candidates before this lie inside a batch already found
        for (long cs = from; cs < fileSize; cs += CHUNK) {
            int len = (int) Math.min(CHUNK, fileSize - cs);
            MemorySegment chunk = chunks.view(cs, len);
            if (chunk == null) break;
            for (int i = 0; i < len; i++) {
                byte b = chunk.get(ValueLayout.JAVA_BYTE, i);
                if (b == 0) continue;
                zeros = false;
                long q = cs + i - MAGIC_AT;
                if (b != 2 || q < resumeAt || q + RecordBatch.HEADER_SIZE > fileSize) continue;
                MemorySegment h = batchesWindow.view(q, RecordBatch.HEADER_SIZE);
                int length = RecordBatch.batchLength(h);
                if (length < MIN_LENGTH || q + RecordBatch.LOG_OVERHEAD + length > fileSize) continue;
                MemorySegment batch = batchesWindow.view(q, RecordBatch.LOG_OVERHEAD + length);
                if (batch == null || !RecordBatch.isCrcValid(batch)) continue;
                batches++;
                records += RecordBatch.lastOffsetDelta(batch) + 1L;
                maxNext = Math.max(maxNext, RecordBatch.baseOffset(batch) + RecordBatch.lastOffsetDelta(batch) + 1L);
                resumeAt = q + RecordBatch.LOG_OVERHEAD + length;
            }
        }
        return new TailScan(zeros, batches, records, maxNext);
    }
}
