package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.storage.api.Storage;
import kiri.storage.api.StorageContext;
import kiri.storage.api.Storages;
import kiri.storage.contract.Capability;
import kiri.storage.contract.ContractEngine;
import kiri.storage.contract.StorageContract;
import kiri.testsupport.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * postgres:// against the storage contract suite: one PostgreSQL for the class, a fresh database per test.
 * The gaps are the ones the module README lists under "Not yet"; each skips only the tests that need it.
 */
class PgContractTest extends StorageContract {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer pg;

    @BeforeAll
    static void startPostgres() {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) pg.close();
    }

    @Override
    protected ContractEngine newEngine() {
        String db = "kiri_contract_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        String url = "postgres://" + PostgresServer.USER + ":" + PostgresServer.PASSWORD + "@" + pg.host() + ":" + pg.port() + "/" + db;
        return new ContractEngine() {
            @Override
            public Storage open(StorageContext context) {
                return Storages.open(url, context);
            }

            @Override
            public Map<Capability, String> gaps() {
                return PgGaps.GAPS;
            }
        };
    }
}
