package kiri.storage.api;

import kiri.protocol.ErrorCode;



/** Fetch/ListOffsets isolation, with Kafka's wire ids. */
public enum IsolationLevel {
    READ_UNCOMMITTED, READ_COMMITTED;

    public byte id() {
        return (byte) ordinal();
    }

    /** @throws StorageException INVALID_REQUEST for an unknown id */
    public static IsolationLevel fromId(byte id) {
        return switch (id) {
            case 0 -> READ_UNCOMMITTED;
            case 1 -> READ_COMMITTED;
            default -> throw new StorageException(ErrorCode.INVALID_REQUEST, "Unknown isolation level " + id);
        };
    }
}
