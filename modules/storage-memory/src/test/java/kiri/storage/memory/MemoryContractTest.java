package kiri.storage.memory;

import java.util.Map;
import kiri.storage.api.StorageUrl;
import kiri.storage.contract.Capability;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;

/** memory:// passes the storage contract suite; it keeps nothing across a close. */
class MemoryContractTest extends StorageContract {
    private static final String GONE = "memory:// keeps nothing once closed";

    @Override
    protected ContractEngine newEngine() {
        return ContractEngine.of(context -> new MemoryStorageProvider().open(StorageUrl.parse("memory://"), context),
                Map.of(Capability.REOPEN, GONE, Capability.DURABLE_COORDINATION, GONE));
    }
}
