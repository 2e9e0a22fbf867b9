package kiri.protocol;

/** A request or response body; {@link #apiKey} names its API. */
public interface ApiMessage extends Message {
    short apiKey();
}
