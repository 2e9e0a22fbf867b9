package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Producer ids for every broker over one database: each broker takes a block of {@link #BLOCK} ids with one
 * {@code nextval('kiri_producer_ids')} (the sequence steps by the block size) and hands them out from memory,
 * so no two brokers ever hand out the same id and a restart never reuses one (the rest of a block is skipped).
 * Thread-safe.
 */
final class PgProducerIds {
    /** Must equal the sequence's INCREMENT BY in {@link PgSchema}. */
    static final long BLOCK = 1000;

    private long next; // guarded by this
    private long end;  // guarded by this

    /** An id from the current block, or -1 if it is used up (then call {@link #next(Connection)} on a pool thread). */
    synchronized long tryNext() {
        return next < end ? next++ : -1L;
    }

    /** An id, taking a new block from the database if needed. */
    long next(Connection c) throws SQLException {
        long id = tryNext();
        if (id >= 0) return id;
        long start;
        try (PreparedStatement q = c.prepareStatement("SELECT nextval('kiri_producer_ids')"); ResultSet rs = q.executeQuery()) {
            rs.next();
            start = rs.getLong(1);
        }
        synchronized (this) {
            next = start; // another thread may have refilled meanwhile: its rest is skipped, never reused
            end = start + BLOCK;
            return next++;
        }
    }
}
