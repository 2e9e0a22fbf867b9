package kiri.storage.memory;

import java.util.Map;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.StorageUrl;
import kiri.storage.contract.Capability;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;

/** memory:// passes the storage contract suite; it keeps nothing across a close. */
class MemoryContractTest extends StorageContract {
    @Override
    protected ContractEngine newEngine() {
        return new ContractEngine() {
            @Override
            public Storage open(StorageContext context) {
                return new MemoryStorageProvider().open(StorageUrl.parse("memory://"), context);
            }

            @Override
            public Map<Capability, String> gaps() {
                String why = "memory:// keeps nothing once closed";
                return Map.of(Capability.REOPEN, why, Capability.DURABLE_COORDINATION, why);
            }
        };
    }
}
