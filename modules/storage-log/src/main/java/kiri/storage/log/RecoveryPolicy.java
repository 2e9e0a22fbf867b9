package kiri.storage.log;

/**
 * How recovery treats what it finds when a partition opens. Decided once, when the engine opens, and used for every
 * partition it opens in that run, at once or later on first use ({@link LazyPartition}); see {@link LogStorage}'s
 * constructor for why the verdict of a marker read then still holds for a partition opened later.
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
}
