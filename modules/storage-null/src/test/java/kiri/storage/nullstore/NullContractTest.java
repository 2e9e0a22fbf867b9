package kiri.storage.nullstore;

import java.util.Map;
import kiri.storage.api.StorageUrl;
import kiri.storage.contract.Capability;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;

/** null:// passes the storage contract suite where it applies: it assigns offsets but keeps no records. */
class NullContractTest extends StorageContract {
    private static final String DISCARDS = "null:// discards records";
    private static final String GONE = "null:// keeps nothing once closed";

    @Override
    protected ContractEngine newEngine() {
        return ContractEngine.of(context -> new NullStorageProvider().open(StorageUrl.parse("null://"), context), Map.of(
                Capability.RECORDS, DISCARDS,
                Capability.PRODUCER_STATE, DISCARDS + " and keeps no producer sequences",
                Capability.RETENTION_BYTES, DISCARDS,
                Capability.RECORD_TIMESTAMPS, DISCARDS,
                Capability.REOPEN, GONE,
                Capability.DURABLE_COORDINATION, GONE));
    }
}
