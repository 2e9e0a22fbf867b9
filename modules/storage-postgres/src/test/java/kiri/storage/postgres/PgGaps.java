package kiri.storage.postgres;

import java.util.Map;
import kiri.storage.contract.Capability;

/** What postgres:// does not do yet (its README, "Not yet"): the contract tests that need these are skipped. */
final class PgGaps {
    private PgGaps() {}

    static final Map<Capability, String> GAPS = Map.of(
            Capability.RETENTION_BYTES, "retention.bytes is not applied yet",
            Capability.RECORD_TIMESTAMPS, "ListOffsets by timestamp answers at batch granularity");
}
