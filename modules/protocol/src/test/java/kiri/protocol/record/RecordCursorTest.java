package kiri.protocol.record;

import static kiri.protocol.record.KafkaBatches.bytes;
import static kiri.protocol.record.KafkaBatches.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Consumer;
import kiri.protocol.BigEndian;
import kiri.protocol.ProtocolException;
import kiri.protocol.WireWriter;
import org.junit.jupiter.api.Test;

/** Hand-written records: what the cursor exposes, and the malformed shapes it must reject. */
class RecordCursorTest {
    private static final long BASE_TIMESTAMP = 1_000_000L;

    /** One raw record: the body is written by {@code body}, prefixed with {@code declaredLength} (or the true length). */
    private static byte[] record(Integer declaredLength, Consumer<WireWriter> body) {
        MemorySegment scratch = MemorySegment.ofArray(new byte[4096]);
        WireWriter w = new WireWriter(scratch);
        body.accept(w);
        int bodyLength = (int) w.position();
        MemorySegment out = MemorySegment.ofArray(new byte[bodyLength + 5]);
        WireWriter o = new WireWriter(out);
        o.writeVarint(declaredLength == null ? bodyLength : declaredLength);
        o.writeSegment(scratch.asSlice(0, bodyLength));
        return bytes(out.asSlice(0, o.position()));
    }

    /** A well-formed record body. */
    private static Consumer<WireWriter> body(int offsetDelta, long timestampDelta, byte[] key, byte[] value, int headers) {
        return w -> {
            w.writeInt8((byte) 0);
            w.writeVarlong(timestampDelta);
            w.writeVarint(offsetDelta);
            writeBytes(w, key);
            writeBytes(w, value);
            w.writeVarint(headers);
            for (int i = 0; i < headers; i++) {
                byte[] k = utf8("h" + i);
                w.writeVarint(k.length);
                w.writeSegment(MemorySegment.ofArray(k));
                writeBytes(w, i % 2 == 0 ? utf8("v" + i) : null);
            }
        };
    }

    private static void writeBytes(WireWriter w, byte[] b) {
        if (b == null) {
            w.writeVarint(-1);
        } else {
            w.writeVarint(b.length);
            w.writeSegment(MemorySegment.ofArray(b));
        }
    }

    /** A v2 batch with a correct header and CRC around the given raw records. */
    private static RecordBatch batch(int recordCount, byte[]... records) {
        int size = RecordBatch.HEADER_SIZE;
        for (byte[] r : records) {
            size += r.length;
        }
        MemorySegment s = MemorySegment.ofArray(new byte[size]);
        long at = RecordBatch.HEADER_SIZE;
        for (byte[] r : records) {
            MemorySegment.copy(MemorySegment.ofArray(r), 0, s, at, r.length);
            at += r.length;
        }
        s.set(BigEndian.LONG, RecordBatch.BASE_OFFSET_OFFSET, 100L);
        s.set(BigEndian.INT, RecordBatch.BATCH_LENGTH_OFFSET, size - RecordBatch.LOG_OVERHEAD);
        s.set(ValueLayout.JAVA_BYTE, RecordBatch.MAGIC_OFFSET, RecordBatch.MAGIC_V2);
        s.set(BigEndian.INT, RecordBatch.LAST_OFFSET_DELTA_OFFSET, recordCount - 1);
        s.set(BigEndian.LONG, RecordBatch.BASE_TIMESTAMP_OFFSET, BASE_TIMESTAMP);
        s.set(BigEndian.LONG, RecordBatch.MAX_TIMESTAMP_OFFSET, BASE_TIMESTAMP);
        s.set(BigEndian.LONG, RecordBatch.PRODUCER_ID_OFFSET, -1L);
        s.set(BigEndian.SHORT, RecordBatch.PRODUCER_EPOCH_OFFSET, (short) -1);
        s.set(BigEndian.INT, RecordBatch.BASE_SEQUENCE_OFFSET, -1);
        s.set(BigEndian.INT, RecordBatch.RECORD_COUNT_OFFSET, recordCount);
        return new RecordBatch().wrap(s, 0).writeCrc();
    }

    private static ProtocolException malformed(RecordBatch batch) {
        return assertThrows(ProtocolException.class, () -> {
            RecordCursor c = new RecordCursor().wrap(batch);
            while (c.next()) {
                while (c.nextHeader()) {
                    c.headerValue();
                }
            }
        });
    }

    @Test
    void wellFormedRecordsExposeEveryField() {
        RecordBatch batch = batch(3,
                record(null, body(0, 0, utf8("k0"), utf8("value-0"), 0)),
                record(null, body(1, -500, null, utf8("v1"), 3)),
                record(null, body(2, 70_000, utf8(""), null, 1)));
        assertEquals(BatchStatus.VALID, batch.validate());
        KafkaBatches.kafkaBatch(bytes(batch.asSlice())).ensureValid();

        RecordCursor c = new RecordCursor().wrap(batch);
        assertTrue(c.next());
        assertEquals(0, c.index());
        assertEquals(100L, c.offset());
        assertEquals(BASE_TIMESTAMP, c.timestamp());
        assertEquals(RecordBatch.HEADER_SIZE, c.position());
        assertArrayEquals(utf8("k0"), bytes(c.key()));
        assertEquals(2, c.keyLength());
        assertArrayEquals(utf8("value-0"), bytes(c.value()));
        assertEquals(utf8("value-0").length, c.valueLength());
        assertEquals(utf8("value-0")[0], batch.segment().get(ValueLayout.JAVA_BYTE, c.valueOffset()));
        assertEquals(0, c.headerCount());
        assertFalse(c.nextHeader());

        assertTrue(c.next());
        assertEquals(101L, c.offset());
        assertEquals(BASE_TIMESTAMP - 500, c.timestamp());
        assertEquals(-500, c.timestampDelta());
        assertFalse(c.hasKey());
        assertNull(c.key());
        assertEquals(-1, c.keyLength());
        assertEquals(3, c.headerCount());
        assertTrue(c.nextHeader());
        assertEquals("h0", c.headerKeyAsString());
        assertArrayEquals(utf8("v0"), bytes(c.headerValue()));
        assertTrue(c.nextHeader());
        assertEquals("h1", c.headerKeyAsString());
        assertNull(c.headerValue());
        assertEquals(-1, c.headerValueLength());
        assertTrue(c.nextHeader());
        assertEquals("h2", c.headerKeyAsString());
        assertEquals(2, c.headerKeyLength());
        assertEquals((byte) 'h', batch.segment().get(ValueLayout.JAVA_BYTE, c.headerKeyOffset()));
        assertEquals((byte) 'v', batch.segment().get(ValueLayout.JAVA_BYTE, c.headerValueOffset()));
        assertFalse(c.nextHeader());

        assertTrue(c.next());
        assertEquals(102L, c.offset());
        assertEquals(BASE_TIMESTAMP + 70_000, c.timestamp());
        assertTrue(c.hasKey());
        assertEquals(0, c.key().byteSize());
        assertFalse(c.hasValue());
        assertNull(c.value());
        assertEquals(1, c.headerCount());
        assertTrue(c.nextHeader(), "headers restart with each record");
        assertEquals("h0", c.headerKeyAsString());
        assertFalse(c.next());
        assertFalse(c.next(), "stays at the end");
    }

    @Test
    void cursorIsReusableAcrossBatches() {
        RecordCursor c = new RecordCursor();
        RecordBatch first = batch(2, record(null, body(0, 0, null, utf8("a"), 0)), record(null, body(1, 0, null, utf8("b"), 0)));
        RecordBatch second = batch(1, record(null, body(0, 0, null, utf8("c"), 0)));
        c.wrap(first);
        assertTrue(c.next());
        c.wrap(second);
        assertTrue(c.next());
        assertArrayEquals(utf8("c"), bytes(c.value()));
        assertFalse(c.next());
    }

    @Test
    void malformedShapesAreProtocolExceptionsWithOffsets() {
        List<RecordBatch> bad = List.of(
                // key length -2
                batch(1, record(null, w -> {
                    w.writeInt8((byte) 0);
                    w.writeVarlong(0);
                    w.writeVarint(0);
                    w.writeVarint(-2);
                    w.writeVarint(-1);
                    w.writeVarint(0);
                })),
                // value length beyond the batch
                batch(1, record(null, w -> {
                    w.writeInt8((byte) 0);
                    w.writeVarlong(0);
                    w.writeVarint(0);
                    w.writeVarint(-1);
                    w.writeVarint(1000);
                    w.writeVarint(0);
                })),
                // header count larger than the bytes left
                batch(1, record(null, w -> {
                    w.writeInt8((byte) 0);
                    w.writeVarlong(0);
                    w.writeVarint(0);
                    w.writeVarint(-1);
                    w.writeVarint(-1);
                    w.writeVarint(1_000_000);
                })),
                // negative header count
                batch(1, record(null, w -> {
                    w.writeInt8((byte) 0);
                    w.writeVarlong(0);
                    w.writeVarint(0);
                    w.writeVarint(-1);
                    w.writeVarint(-1);
                    w.writeVarint(-1);
                })),
                // null header key
                batch(1, record(null, w -> {
                    w.writeInt8((byte) 0);
                    w.writeVarlong(0);
                    w.writeVarint(0);
                    w.writeVarint(-1);
                    w.writeVarint(-1);
                    w.writeVarint(1);
                    w.writeVarint(-1);
                    w.writeVarint(-1);
                })),
                // declared record length shorter than its fields
                batch(1, record(3, body(0, 0, utf8("key"), utf8("value"), 0))),
                // declared record length longer than its fields (trailing junk inside the record)
                batch(1, concat(record(20, body(0, 0, utf8("k"), utf8("v"), 0)), new byte[12])),
                // declared record length beyond the batch
                batch(1, record(500, body(0, 0, utf8("k"), utf8("v"), 0))),
                // negative record length
                batch(1, record(-5, body(0, 0, utf8("k"), utf8("v"), 0))),
                // count says 2, one record present
                batch(2, record(null, body(0, 0, null, utf8("v"), 0))),
                // count says 1, two records present
                batch(1, record(null, body(0, 0, null, utf8("v"), 0)), record(null, body(1, 0, null, utf8("w"), 0))),
                // a varint that never ends
                batch(1, new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}),
                // a varlong timestamp delta of 11 bytes
                batch(1, concat(new byte[] {0x18, 0}, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01}, new byte[] {0, 1, 1, 0})));
        for (int i = 0; i < bad.size(); i++) {
            RecordBatch batch = bad.get(i);
            assertEquals(BatchStatus.VALID, batch.validate(), "case " + i + " passes the batch checks");
            ProtocolException e = malformed(batch);
            assertTrue(e.getMessage().contains("offset"), "case " + i + ": " + e.getMessage());
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void emptyBatchIteratesNothing() {
        RecordBatch empty = batch(0);
        assertEquals(BatchStatus.INVALID_OFFSET_RANGE, empty.validate(), "Kafka rejects empty batches on produce");
        RecordCursor c = new RecordCursor().wrap(empty);
        assertFalse(c.next());
    }
}
