package kiri.storage.postgres;

import kiri.storage.api.Storages;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;
import kiri.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * postgres:// against the storage contract suite: one PostgreSQL for the class, a fresh database per test.
 * The gaps ({@link PgGaps}) are the ones the module README lists under "Not yet"; each skips only the tests that need it.
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
        return ContractEngine.of(context -> Storages.open(url, context), PgGaps.GAPS);
    }
}
