package kiri.transport;

/** Placeholder. */
final class Transport {
    private Transport() {
    }
}
