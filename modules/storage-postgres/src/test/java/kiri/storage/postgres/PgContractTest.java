package kiri.storage.postgres;

import java.util.Map;
import kiri.storage.api.Storages;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;
import kiri.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * postgres:// against the storage contract suite: one PostgreSQL for the class, a fresh database per test.
 * It lacks no capability: nothing is skipped.
 */
class PgContractTest extends StorageContract {
    private static PostgresServer server;

    @BeforeAll
    static void startServer() {
        server = PostgresServer.start();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.close();
    }

    @Override
    protected ContractEngine newEngine() {
        String url = server.freshDatabaseUrl();
        return ContractEngine.of(context -> Storages.open(url, context), Map.of());
    }
}
