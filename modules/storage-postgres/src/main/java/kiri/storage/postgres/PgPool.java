package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import kiri.protocol.ErrorCode;
import kiri.storage.api.StorageException;

/**
 * The engine's connections: a few platform threads, each with its own connection (opened on first use and
 * again after it broke), on which all blocking JDBC work runs; callers get a {@link CompletableFuture}.
 * Work runs in a transaction (auto-commit off): committed when it returns, rolled back when it throws.
 *
 * <p>Failures: a {@link StorageException} thrown by the work is passed on as is; an {@link SQLException}
 * becomes KAFKA_STORAGE_ERROR (retriable for clients), and a connection that failed is closed so that the
 * next piece of work reconnects. Thread-safe; {@link #close} waits briefly for running work.
 */
final class PgPool implements AutoCloseable {
    /** Blocking work on a connection. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final PgConnector connector;
    private final ExecutorService threads;
    private final ThreadLocal<Connection> connection = new ThreadLocal<>();
    private final List<Connection> opened = new ArrayList<>(); // guarded by itself, closed on close()

    PgPool(PgConnector connector, int size) {
        this.connector = connector;
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(size, r -> {
            Thread t = new Thread(r, "kiri-pg-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs {@code work} in a transaction on a pool thread. Never blocks the caller. */
    <T> CompletableFuture<T> tx(Work<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            threads.execute(() -> {
                try {
                    result.complete(runHere(work));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "storage is closed"));
        }
        return result;
    }

    /** Runs {@code work} in a transaction on the current pool thread (for work already running on one). */
    <T> T runHere(Work<T> work) {
        Connection c = null;
        try {
            c = connection();
            T value = work.run(c);
            c.commit();
            return value;
        } catch (SQLException e) {
            discard(c);
            throw failure(e);
        } catch (RuntimeException e) {
            discard(c);
            throw e;
        }
    }

    static StorageException failure(SQLException e) {
        return new StorageException(ErrorCode.KAFKA_STORAGE_ERROR, "PostgreSQL: " + e.getMessage(), e);
    }

    private Connection connection() throws SQLException {
        Connection c = connection.get();
        if (c != null) return c;
        c = connector.connect();
        c.setAutoCommit(false);
        connection.set(c);
        synchronized (opened) {
            opened.add(c);
        }
        return c;
    }

    /** Rolls back and, if the connection is broken, closes it so that the next work reconnects. */
    private void discard(Connection c) {
        if (c == null) return;
        try {
            c.rollback();
            if (c.isValid(5)) return;
        } catch (SQLException ignored) {
            // broken: closed below
        }
        connection.remove();
        try {
            c.close();
        } catch (SQLException ignored) {
            // already gone
        }
        synchronized (opened) {
            opened.remove(c);
        }
    }

    @Override
    public void close() {
        threads.shutdown();
        try {
            threads.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        threads.shutdownNow();
        synchronized (opened) {
            for (Connection c : opened) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing anyway
                }
            }
            opened.clear();
        }
    }
}
