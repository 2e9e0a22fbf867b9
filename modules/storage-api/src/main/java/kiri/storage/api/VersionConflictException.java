package kiri.storage.api;

import kiri.protocol.ErrorCode;



/**
 * A compare-and-set lost: the stored version is not the one the caller read. The coordinator reloads
 * and retries; if it gives up, the code it maps to (COORDINATOR_LOAD_IN_PROGRESS) is retriable for
 * every client, which then simply repeats the request.
 */
public final class VersionConflictException extends StorageException {
    private static final long serialVersionUID = 1L;

    private final long expectedVersion;
    private final long actualVersion;

    public VersionConflictException(String key, long expectedVersion, long actualVersion) {
        super(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                "concurrent update of '" + key + "': expected version " + expectedVersion + ", found " + actualVersion);
        this.expectedVersion = expectedVersion;
        this.actualVersion = actualVersion;
    }

    public long expectedVersion() {
        return expectedVersion;
    }

    /** The version now stored ({@link GroupState#NO_VERSION} if the entry is gone). */
    public long actualVersion() {
        return actualVersion;
    }
}
