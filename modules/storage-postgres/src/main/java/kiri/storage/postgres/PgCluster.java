package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import kiri.storage.api.BrokerInfo;

/**
 * Cluster membership over {@code kiri_brokers}: this broker's row carries a lease that a dedicated thread (with
 * its own connection, so a busy pool never starves it) renews every {@code broker.heartbeat.interval.ms}; a
 * broker whose lease passed ({@code broker.session.timeout.ms}, Kafka's names and defaults) is dead, and the first
 * broker to notice deletes its row. Every registration of a new instance and every removal bumps the sequence
 * {@code kiri_cluster_epochs}, whose value is the leader epoch of every placement, so clients tell newer
 * metadata from older.
 *
 * <p>Each heartbeat reads the live brokers into an immutable {@link View}; a view is trusted only until this
 * broker's own lease would have run out, so a broker cut off from PostgreSQL stops claiming partitions (its view
 * is empty) at about the time the others take them over. A node id whose lease another live instance holds is
 * refused (two brokers, one id): this broker then stays out of the view.
 *
 * <p>Threads: one daemon thread; {@link #view()} is a volatile read.
 */
final class PgCluster implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PgCluster.class.getName());

    /** The live brokers by node id and the cluster epoch, as read at {@code readNanos}. */
    record View(long epoch, List<BrokerInfo> live, long validUntilNanos) {
        static final View NONE = new View(0, List.of(), Long.MIN_VALUE);

        /** The live brokers, or none if this view is too old to trust. */
        List<BrokerInfo> current() {
            return System.nanoTime() - validUntilNanos < 0 ? live : List.of();
        }
    }

    private final PgConnector connector;
    private final long sessionTimeoutMs;
    private final long heartbeatMs;
    private final UUID instance = UUID.randomUUID();
    private final AtomicReference<BrokerInfo> self = new AtomicReference<>();
    private final Thread thread;
    private final Object wake = new Object();
    private final List<CompletableFuture<Void>> registered = new ArrayList<>(); // guarded by wake
    private volatile View view = View.NONE;
    private volatile boolean closed;
    private Connection connection; // the heartbeat thread's

    PgCluster(PgConnector connector, long sessionTimeoutMs, long heartbeatMs) {
        this.connector = connector;
        this.sessionTimeoutMs = sessionTimeoutMs;
        this.heartbeatMs = heartbeatMs;
        this.thread = new Thread(this::run, "kiri-pg-lease");
        thread.setDaemon(true);
    }

    View view() {
        return view;
    }

    /** Registers (or re-registers with a new address) this broker; completes after the next heartbeat that took. */
    CompletableFuture<Void> register(BrokerInfo broker) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        self.set(broker);
        synchronized (wake) {
            registered.add(done);
            if (!thread.isAlive() && !closed) thread.start();
            wake.notifyAll();
        }
        return done;
    }

    private void run() {
        while (!closed) {
            long started = System.nanoTime();
            List<CompletableFuture<Void>> waiting;
            synchronized (wake) {
                waiting = new ArrayList<>(registered);
                registered.clear();
            }
            try {
                view = heartbeat(started);
                waiting.forEach(f -> f.complete(null));
            } catch (SQLException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "broker lease in PostgreSQL not renewed: " + e.getMessage());
                closeConnection();
                synchronized (wake) {
                    registered.addAll(waiting); // completed by the next heartbeat that takes
                }
            }
            synchronized (wake) {
                if (!closed && registered.isEmpty()) {
                    try {
                        wake.wait(heartbeatMs);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    private View heartbeat(long started) throws SQLException {
        if (connection == null) {
            connection = connector.connect();
            connection.setAutoCommit(false);
        }
        Connection c = connection;
        BrokerInfo me = self.get();
        boolean changed = false;
        boolean mine = true;
        try (PreparedStatement q = c.prepareStatement("SELECT instance, lease_until > now() FROM kiri_brokers WHERE node_id = ? FOR UPDATE")) {
            q.setInt(1, me.nodeId());
            try (ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    changed = true;
                } else if (!rs.getObject(1, UUID.class).equals(instance)) {
                    mine = !rs.getBoolean(2);
                    changed = mine;
                }
            }
        }
        if (mine) {
            try (PreparedStatement u = c.prepareStatement("INSERT INTO kiri_brokers VALUES (?, ?, ?, ?, ?, now() + ? * interval '1 millisecond')"
                    + " ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, port = excluded.port, rack = excluded.rack,"
                    + " instance = excluded.instance, lease_until = excluded.lease_until")) {
                u.setInt(1, me.nodeId());
                u.setString(2, me.host());
                u.setInt(3, me.port());
                u.setString(4, me.rack());
                u.setObject(5, instance);
                u.setLong(6, sessionTimeoutMs);
                u.executeUpdate();
            }
        } else {
            LOG.log(System.Logger.Level.ERROR, "node id " + me.nodeId() + " is held by another live broker: not joining the cluster");
        }
        try (PreparedStatement d = c.prepareStatement("DELETE FROM kiri_brokers WHERE lease_until < now()")) {
            if (d.executeUpdate() > 0) changed = true; // dead brokers: their partitions and groups move
        }
        if (changed) {
            try (PreparedStatement e = c.prepareStatement("SELECT nextval('kiri_cluster_epochs')")) {
                e.execute();
            }
        }
        List<BrokerInfo> live = new ArrayList<>();
        try (PreparedStatement q = c.prepareStatement("SELECT node_id, host, port, rack FROM kiri_brokers ORDER BY node_id");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) live.add(new BrokerInfo(rs.getInt(1), rs.getString(2), rs.getInt(3), rs.getString(4)));
        }
        long epoch;
        try (PreparedStatement q = c.prepareStatement("SELECT last_value FROM kiri_cluster_epochs"); ResultSet rs = q.executeQuery()) {
            rs.next();
            epoch = rs.getLong(1);
        }
        c.commit();
        // trusted until our own lease (taken before this round trip started) runs out
        return new View(epoch, List.copyOf(live), started + sessionTimeoutMs * 1_000_000L);
    }

    private void closeConnection() {
        Connection c = connection;
        connection = null;
        if (c == null) return;
        try {
            c.close();
        } catch (SQLException ignored) {
            // broken anyway
        }
    }

    /** Leaves the cluster at once (a clean shutdown): the others take this broker's share at their next heartbeat. */
    @Override
    public void close() {
        closed = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        BrokerInfo me = self.get();
        if (me != null && !thread.isAlive()) {
            try (Connection c = connection != null ? connection : connector.connect();
                 PreparedStatement d = c.prepareStatement("DELETE FROM kiri_brokers WHERE node_id = ? AND instance = ?")) {
                if (!c.getAutoCommit()) c.setAutoCommit(true);
                d.setInt(1, me.nodeId());
                d.setObject(2, instance);
                if (d.executeUpdate() > 0) {
                    try (PreparedStatement e = c.prepareStatement("SELECT nextval('kiri_cluster_epochs')")) {
                        e.execute();
                    }
                }
            } catch (SQLException e) {
                LOG.log(System.Logger.Level.DEBUG, "leaving the cluster: " + e.getMessage()); // the lease runs out instead
            }
            connection = null;
        }
        view = View.NONE;
    }
}
