package kiri.protocol;

/**
 * The one exception the codec throws for input it cannot decode or a message it cannot encode:
 * truncated frames, negative or oversized lengths, array counts larger than the bytes left, bad
 * varints, nulls where the schema forbids them, unknown api keys and unsupported versions.
 *
 * <p>The message says what was wrong and where (byte offset in the frame, and the field or message
 * when the caller knows it). Decoders check every length against the bytes that remain before they
 * allocate, so a malformed frame never makes the codec allocate more than the frame holds.
 */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }

    static ProtocolException truncated(long offset, long needed, long remaining) {
        return new ProtocolException("truncated input at offset " + offset + ": needed " + needed
                + " bytes, " + remaining + " remaining");
    }
}
