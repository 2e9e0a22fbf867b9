package kiri.protocol.record;

/** The codec of a batch's records section: bits 0-2 of the batch attributes. */
public enum CompressionType {
    NONE(0),
    GZIP(1),
    SNAPPY(2),
    LZ4(3),
    ZSTD(4);

    private static final CompressionType[] BY_ID = values();

    private final int id;

    CompressionType(int id) {
        this.id = id;
    }

    /** The value of the attribute bits. */
    public int id() {
        return id;
    }

    /** The type for an attribute value, or {@code null} for ids 5-7, which no codec uses. */
    public static CompressionType forId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
