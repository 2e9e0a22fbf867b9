package kiri.codegen;

/** A message spec that breaks the rules; the message names the spec and the field. */
final class SpecException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SpecException(String message) {
        super(message);
    }
}
