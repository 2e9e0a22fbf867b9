package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import kiri.embedded.EmbeddedKiri;
import kiri.testsupport.PostgresServer;

/**
 * A private PostgreSQL and brokers 1..N in this JVM over one database of it, with short leases so that tests see
 * failovers quickly. One per test; closes the brokers, then the server.
 */
final class PgClusterFixture implements AutoCloseable {
    final PostgresServer pg;
    final List<EmbeddedKiri> brokers = new ArrayList<>();

    /** @param leaseParams the storage URL's lease parameters, e.g. {@code broker.session.timeout.ms=3000&...} */
    PgClusterFixture(int count, String leaseParams) throws Exception {
        pg = PostgresServer.start();
        try {
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), PostgresServer.USER, PostgresServer.PASSWORD);
                 Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE kiri_cluster");
            }
            String url = "postgres://" + PostgresServer.USER + ":" + PostgresServer.PASSWORD + "@" + pg.host() + ":" + pg.port()
                    + "/kiri_cluster?" + leaseParams;
            for (int node = 1; node <= count; node++) {
                brokers.add(EmbeddedKiri.builder().storage(url).host("127.0.0.1").nodeId(node).autoCreateTopics(false).start());
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** Three brokers with a 3 s session timeout and 500 ms heartbeats. */
    static PgClusterFixture threeBrokers() throws Exception {
        return new PgClusterFixture(3, "broker.session.timeout.ms=3000&broker.heartbeat.interval.ms=500");
    }

    /** A kafka-clients consumer's properties: group {@code groupId} from the earliest offset, string keys and values. */
    java.util.Properties consumerProps(String groupId) {
        java.util.Properties p = new java.util.Properties();
        p.put("bootstrap.servers", bootstrap());
        p.put("group.id", groupId);
        p.put("auto.offset.reset", "earliest");
        p.put("key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName());
        p.put("value.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class.getName());
        return p;
    }

    /** The running brokers' addresses, comma-separated. */
    String bootstrap() {
        return String.join(",", brokers.stream().filter(EmbeddedKiri::isRunning).map(EmbeddedKiri::bootstrapServers).toList());
    }

    @Override
    public void close() {
        brokers.forEach(EmbeddedKiri::close);
        pg.close();
    }
}
