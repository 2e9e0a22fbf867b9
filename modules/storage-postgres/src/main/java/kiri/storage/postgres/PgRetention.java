package kiri.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Retention of one partition's batches, as Kafka applies it by segment but batch by batch, from the start:
 * {@code retention.ms} drops the batches before the first one whose max timestamp is within it, {@code retention.bytes}
 * drops batches while the partition stays at least that large without them. Stateless; runs on a pool thread.
 */
final class PgRetention {
    private PgRetention() {}

    /**
     * Where the log should start so that both limits hold (a negative limit is off; at least one is on): a batch's
     * base offset, or the partition's next offset when every batch goes. One statement, so one snapshot: a batch
     * appended meanwhile is either counted or lies past the answer.
     */
    static long keepFrom(Connection c, UUID topicId, int partition, long cutoffMs, long retentionBytes) throws SQLException {
        String byTime = cutoffMs == Long.MIN_VALUE ? "0" : "coalesce((SELECT min(base_offset) FROM kiri_batches"
                + " WHERE topic_id = p.topic_id AND partition = p.partition AND max_timestamp >= ?), p.next_offset)";
        // for each batch, the bytes of the batches after it: it may go while those alone reach retention.bytes
        String bySize = retentionBytes < 0 ? "0" : "coalesce((SELECT min(base_offset) FROM (SELECT base_offset,"
                + " sum(octet_length(bytes)) OVER (ORDER BY base_offset DESC) - octet_length(bytes) AS after FROM kiri_batches"
                + " WHERE topic_id = p.topic_id AND partition = p.partition) s WHERE after < ?), p.next_offset)";
        try (PreparedStatement q = c.prepareStatement("SELECT greatest(" + byTime + ", " + bySize + ")"
                + " FROM kiri_partitions p WHERE p.topic_id = ? AND p.partition = ?")) {
            int i = 1;
            if (cutoffMs != Long.MIN_VALUE) q.setLong(i++, cutoffMs);
            if (retentionBytes >= 0) q.setLong(i++, retentionBytes);
            q.setObject(i++, topicId);
            q.setInt(i, partition);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L; // a deleted partition: nothing to do
            }
        }
    }
}
