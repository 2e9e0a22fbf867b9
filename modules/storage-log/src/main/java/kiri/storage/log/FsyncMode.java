package kiri.storage.log;

/**
 * When a produce is acknowledged relative to the disk, from the URL's {@code fsync} parameter.
 * See the module README for what each mode guarantees.
 */
sealed interface FsyncMode {
    /** Default: acknowledge after write + {@code force}, many appends sharing one force (group commit). */
    record Always() implements FsyncMode {}

    /** Acknowledge after write() to the page cache; the OS writes back when it likes (and on close). */
    record Never() implements FsyncMode {}

    /** Acknowledge after write(); a force of every written file at least every {@code ms}. */
    record Interval(long ms) implements FsyncMode {}

    /** @throws IllegalArgumentException with a one-line message for anything else */
    static FsyncMode parse(String value) {
        if (value == null || value.equals("always")) return new Always();
        if (value.equals("never")) return new Never();
        if (value.startsWith("interval:")) {
            try {
                long ms = Long.parseLong(value.substring("interval:".length()));
                if (ms > 0) return new Interval(ms);
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("fsync=" + value + " is not one of always, never, interval:MS (MS > 0)");
    }

    default String describe() {
        return switch (this) {
            case Always a -> "always";
            case Never n -> "never";
            case Interval i -> "interval:" + i.ms();
        };
    }
}
