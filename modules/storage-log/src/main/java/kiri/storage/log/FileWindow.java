package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Sequential reads of a file through one buffer (recovery scans), handing out views of whole ranges. */
final class FileWindow {
    private final FileChannel channel;
    private final long fileSize;
    private ByteBuffer buffer;
    private long start = -1L;
    private int limit;

    FileWindow(FileChannel channel, long fileSize, int capacity) {
        this(channel, fileSize, ByteBuffer.allocate(capacity));
    }

    /** Reads through {@code buffer} (e.g. a per-thread one; grown privately if a range needs more). */
    FileWindow(FileChannel channel, long fileSize, ByteBuffer buffer) {
        this.channel = channel;
        this.fileSize = fileSize;
        this.buffer = buffer;
    }

    /** A view of {@code [pos, pos + len)}, or null if the file ends before. Valid until the next call. */
    MemorySegment view(long pos, int len) throws IOException {
        if (pos + len > fileSize) return null;
        if (start < 0 || pos < start || pos + len > start + limit) {
            if (len > buffer.capacity()) buffer = ByteBuffer.allocate(Math.max(len, buffer.capacity() * 2));
            buffer.clear();
            int want = (int) Math.min(buffer.capacity(), fileSize - pos);
            buffer.limit(want);
            while (buffer.hasRemaining()) {
                int n = channel.read(buffer, pos + buffer.position());
                if (n < 0) break;
            }
            start = pos;
            limit = buffer.position();
            if (limit < len) return null;
        }
        return MemorySegment.ofBuffer(buffer.duplicate().clear()).asSlice(pos - start, len);
    }
}
