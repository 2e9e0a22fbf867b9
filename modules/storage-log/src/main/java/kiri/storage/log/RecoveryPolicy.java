package kiri.storage.log;

/**
 * How recovery treats what it finds when a partition opens.
 *
 * @param cleanShutdown the engine was closed cleanly last time ({@link CleanShutdown}): no write can have been torn, so
 *                      the last segment is not CRC-checked and anything odd in it is damage, not a torn tail
 * @param truncate      {@code recover=truncate}: the operator accepts losing damaged data; recovery cuts the log at the
 *                      damage and logs what it lost, instead of refusing to open
 * @param reopenHint    how to accept the loss, for the refusal's message (the storage URL with {@code recover=truncate})
 * @param cleanEnds     after a clean shutdown, each partition directory's end offset then (a log that ends earlier lost its tail)
 */
record RecoveryPolicy(boolean cleanShutdown, boolean truncate, String reopenHint, java.util.Map<String, Long> cleanEnds) {
    /** The URL parameter that accepts losing damaged data. */
    static final String PARAM = "recover";

    /** For a partition created now (nothing on disk to recover). */
    static final RecoveryPolicy FRESH = new RecoveryPolicy(true, false, "", java.util.Map.of());
}
