package kiri.protocol.record;

/**
 * The type in a control record's key (version int16, type int16). Transactions use
 * {@link #ABORT} and {@link #COMMIT}; the others belong to KRaft's metadata log.
 */
public enum ControlRecordType {
    ABORT(0),
    COMMIT(1),
    LEADER_CHANGE(2),
    SNAPSHOT_HEADER(3),
    SNAPSHOT_FOOTER(4),
    KRAFT_VERSION(5),
    KRAFT_VOTERS(6),
    /** A type this table does not know; readers skip such records, as Kafka's do. */
    UNKNOWN(-1);

    private final short type;

    ControlRecordType(int type) {
        this.type = (short) type;
    }

    /** The type on the wire. */
    public short type() {
        return type;
    }

    /** The constant for a wire type; {@link #UNKNOWN} for types not in this table. */
    public static ControlRecordType forType(short type) {
        return switch (type) {
            case 0 -> ABORT;
            case 1 -> COMMIT;
            case 2 -> LEADER_CHANGE;
            case 3 -> SNAPSHOT_HEADER;
            case 4 -> SNAPSHOT_FOOTER;
            case 5 -> KRAFT_VERSION;
            case 6 -> KRAFT_VOTERS;
            default -> UNKNOWN;
        };
    }
}
