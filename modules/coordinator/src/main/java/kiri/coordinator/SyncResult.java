package kiri.coordinator;

/** A SyncGroup answer: this member's assignment in the new generation. */
public record SyncResult(short error, String protocolType, String protocolName, byte[] assignment) {
    static SyncResult error(short error) {
        return new SyncResult(error, null, null, new byte[0]);
    }
}
