package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Wakes fetch long polls across brokers: an append's transaction sends {@code NOTIFY kiri_data} (delivered
 * by PostgreSQL only if it commits), and one dedicated connection per broker LISTENs on a daemon thread and
 * hands other brokers' appends to {@link Listener}. Topic changes send {@code NOTIFY kiri_catalog}, on which
 * the other brokers re-read the catalogue. The listening connection reconnects after a failure; each time
 * LISTEN is in place it asks for a resync (catalogue and partitions), since changes may have passed unheard (an append
 * committed just before the server went away); meanwhile long polls simply run to their deadline.
 */
final class PgNotifier implements AutoCloseable {
    static final String CHANNEL = "kiri_data";
    static final String CATALOG = "kiri_catalog";

    /** Told of another broker's append, on the listening thread. */
    @FunctionalInterface
    interface Listener {
        void appended(UUID topicId, int partition, long nextOffset);
    }

    /** Tells this broker's own notifications apart from others'. */
    private final String instance = UUID.randomUUID().toString();
    private final PgConnector connector;
    private final Listener listener;
    private final Runnable catalogChanged;
    private final Runnable resync;
    private final Thread thread;
    private volatile boolean closed;
    private volatile Connection connection;

    /**
     * @param catalogChanged told (on the listening thread) that another broker changed topics
     * @param resync         told each time LISTEN is in place (start, reconnect): what was not heard must be re-read
     */
    PgNotifier(PgConnector connector, Listener listener, Runnable catalogChanged, Runnable resync) {
        this.connector = connector;
        this.listener = listener;
        this.catalogChanged = catalogChanged;
        this.resync = resync;
        this.thread = new Thread(this::run, "kiri-pg-listen");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Adds the notification of an append to the transaction {@code c} is in. */
    void notify(Connection c, UUID topicId, int partition, long nextOffset) throws SQLException {
        try (PreparedStatement n = c.prepareStatement("SELECT pg_notify('" + CHANNEL + "', ?)")) {
            n.setString(1, instance + " " + topicId + " " + partition + " " + nextOffset);
            n.execute();
        }
    }

    /** Adds a notification that topics changed to the transaction {@code c} is in. */
    void notifyCatalog(Connection c) throws SQLException {
        try (PreparedStatement n = c.prepareStatement("SELECT pg_notify('" + CATALOG + "', ?)")) {
            n.setString(1, instance);
            n.execute();
        }
    }

    private void run() {
        long backoffMs = 100;
        while (!closed) {
            try (Connection c = connector.connect()) {
                connection = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                    s.execute("LISTEN " + CATALOG);
                }
                resync.run(); // a change may have passed unheard before LISTEN (start, reconnect)
                backoffMs = 100;
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] ns = pg.getNotifications(1000);
                    if (ns == null) continue;
                    for (PGNotification n : ns) {
                        if (n.getName().equals(CATALOG)) {
                            if (!n.getParameter().equals(instance)) catalogChanged.run();
                        } else {
                            dispatch(n.getParameter());
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) return;
                try {
                    Thread.sleep(backoffMs); // the server is away: try again, a little later each time
                } catch (InterruptedException ie) {
                    return;
                }
                backoffMs = Math.min(5_000, backoffMs * 2);
            }
        }
    }

    private void dispatch(String payload) {
        String[] parts = payload.split(" ");
        if (parts.length != 4 || parts[0].equals(instance)) return;
        try {
            listener.appended(UUID.fromString(parts[1]), Integer.parseInt(parts[2]), Long.parseLong(parts[3]));
        } catch (IllegalArgumentException ignored) {
            // not ours
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing
            }
        }
    }
}
