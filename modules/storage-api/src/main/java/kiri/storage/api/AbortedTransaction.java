package kiri.storage.api;

/** A FetchResponse aborted-transaction entry: a READ_COMMITTED consumer drops this producer's records from {@code firstOffset} up to the abort marker. */
public record AbortedTransaction(long producerId, long firstOffset) {
}
