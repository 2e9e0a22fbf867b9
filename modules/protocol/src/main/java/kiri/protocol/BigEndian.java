package kiri.protocol;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The big-endian (network order) value layouts the Kafka wire format and record batches use, declared
 * once. Unaligned, because fields sit at odd offsets (a batch's CRC at 17, its attributes at 21). Static
 * final, so reads and writes through them compile to plain loads and stores; immutable and thread-safe.
 * ({@code kiri.transport}, which does not depend on the protocol, declares its one frame-size layout itself.)
 */
public final class BigEndian {
    private BigEndian() {}

    public static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
}
