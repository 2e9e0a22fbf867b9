package kiri.storage.nullstore;

import java.util.Map;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageUrl;
import kiri.storage.contract.Capability;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;

/** null:// passes the storage contract suite where it applies: it assigns offsets but keeps no records. */
class NullContractTest extends StorageContract {
    @Override
    protected ContractEngine newEngine() {
        return new ContractEngine() {
            @Override
            public Storage open(StorageContext context) {
                return new NullStorageProvider().open(StorageUrl.parse("null://"), context);
            }

            @Override
            public Map<Capability, String> gaps() {
                String discards = "null:// discards records";
                return Map.of(Capability.RECORDS, discards,
                        Capability.PRODUCER_STATE, discards + " and keeps no producer sequences",
                        Capability.RETENTION_BYTES, discards,
                        Capability.RECORD_TIMESTAMPS, discards,
                        Capability.REOPEN, "null:// keeps nothing once closed",
                        Capability.DURABLE_COORDINATION, "null:// keeps nothing once closed");
            }
        };
    }
}
