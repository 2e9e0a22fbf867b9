package kiri.storage.log;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import kiri.protocol.Records;
import kiri.storage.api.FetchResult;

/** What a fetch of the log engine returns, as bytes; building and parsing batches is {@link kiri.testsupport.KafkaBatches}. */
final class Batches {
    private Batches() {}

    /** The bytes a fetch returned, read through the file ranges as a transport would send them. */
    static byte[] bytes(FetchResult r) throws IOException {
        ByteBuffer out = ByteBuffer.allocate((int) r.byteSize());
        for (Records.Region region : r.batches()) {
            switch (region) {
                case Records.FileRegion f -> {
                    ByteBuffer b = ByteBuffer.allocate((int) f.length());
                    while (b.hasRemaining()) {
                        if (f.channel().read(b, f.position() + b.position()) < 0) throw new IOException("short file");
                    }
                    out.put(b.flip());
                }
                case Records.Memory s -> out.put(s.segment().toArray(ValueLayout.JAVA_BYTE));
            }
        }
        return out.array();
    }
}
