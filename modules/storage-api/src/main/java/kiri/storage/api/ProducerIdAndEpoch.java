package kiri.storage.api;

/** A producer id and epoch; {@link #NONE} is Kafka's (-1, -1) "no producer" pair. */
public record ProducerIdAndEpoch(long producerId, short epoch) {
    public static final ProducerIdAndEpoch NONE = new ProducerIdAndEpoch(-1L, (short) -1);

    public ProducerIdAndEpoch(long producerId, int epoch) {
        this(producerId, (short) epoch);
    }

    public boolean isNone() {
        return producerId < 0;
    }
}
