package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.Driver;

/**
 * Opens connections with pgjdbc's driver directly (not {@link java.sql.DriverManager}, whose service lookup
 * does not see a driver in a plugin layer). Thread-safe.
 */
final class PgConnector {
    private final PgConfig config;
    private final Driver driver = new Driver();

    PgConnector(PgConfig config) {
        this.config = config;
    }

    Connection connect() throws SQLException {
        Connection c = driver.connect(config.jdbcUrl(), config.properties());
        if (c == null) throw new SQLException("pgjdbc refused " + config.jdbcUrl());
        return c;
    }
}
