package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import kiri.embedded.EmbeddedKiri;
import kiri.testsupport.PostgresServer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Test fixture ({@code @RegisterExtension}): before each test a PostgreSQL of its own and brokers 1..n in this JVM
 * over one database of it (a cluster); after it, the brokers still running stop, then PostgreSQL.
 */
final class PgBrokers implements BeforeEachCallback, AfterEachCallback {
    private final int count;
    private final String params;
    /** This test's PostgreSQL (tests stop, kill and restart it). */
    PostgresServer pg;
    final List<EmbeddedKiri> brokers = new ArrayList<>();

    /** {@code params}: the storage URL's query string ("" for the defaults), e.g. shorter leases. */
    PgBrokers(int count, String params) {
        this.count = count;
        this.params = params;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        pg = PostgresServer.start();
        try {
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
                 Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE kiri_cluster");
            }
            String url = "postgres://" + PostgresServer.USER + ":" + PostgresServer.PASSWORD + "@" + pg.host() + ":" + pg.port()
                    + "/kiri_cluster" + (params.isEmpty() ? "" : "?" + params);
            for (int node = 1; node <= count; node++) {
                brokers.add(EmbeddedKiri.builder().storage(url).host("127.0.0.1").nodeId(node).autoCreateTopics(false).start());
            }
        } catch (Exception | Error e) {
            afterEach(context);
            throw e;
        }
    }

    /** Three brokers with a 3 s session timeout and 500 ms heartbeats, so that tests see failovers quickly. */
    static PgBrokers three() {
        return new PgBrokers(3, "broker.session.timeout.ms=3000&broker.heartbeat.interval.ms=500");
    }

    /**
     * A kafka-clients consumer's properties: from the earliest offset, string keys and values, in group
     * {@code groupId} (none if null: assign() only).
     */
    Properties consumerProps(String groupId) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        if (groupId != null) p.put("group.id", groupId);
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        return p;
    }

    /** The running brokers' addresses, for bootstrap.servers. */
    String bootstrap() {
        return String.join(",", brokers.stream().filter(EmbeddedKiri::isRunning).map(EmbeddedKiri::bootstrapServers).toList());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        brokers.forEach(EmbeddedKiri::close);
        brokers.clear();
        if (pg != null) pg.close();
    }
}
