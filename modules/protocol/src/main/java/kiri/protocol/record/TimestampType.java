package kiri.protocol.record;

/** Bit 3 of the batch attributes: who set the timestamps. */
public enum TimestampType {
    /** The producer set each record's timestamp. */
    CREATE_TIME,
    /** The broker set the batch's maxTimestamp on append; it is every record's timestamp. */
    LOG_APPEND_TIME
}
