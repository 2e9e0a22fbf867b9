package kiri.protocol.message;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import kiri.protocol.Message;
import kiri.protocol.WireReader;
import kiri.protocol.WireWriter;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.MessageUtil;
import org.junit.jupiter.api.Test;

/**
 * Differential round trips against kafka-clients' own generated codec, for every spec (requests,
 * responses, headers, data) at every valid version:
 * <ul>
 *   <li>Kafka encodes -> Kiri decodes (every field equal) -> Kiri encodes -> identical bytes;
 *   <li>Kiri encodes -> Kafka decodes (every field equal) -> Kafka encodes -> identical bytes.
 * </ul>
 * Each case runs the all-defaults message and {@value #RANDOM_PER_CASE} random ones, with nulls,
 * tagged fields, unknown tagged fields and non-ASCII strings.
 */
class KafkaDifferentialTest {
    static final int RANDOM_PER_CASE = 12;

    @Test
    void everySpecEveryVersionRoundTripsBothWays() throws Exception {
        List<TestSpecs.Spec> specs = TestSpecs.all();
        assertTrue(specs.size() >= 190, "specs found: " + specs.size());
        int cases = 0;
        int messages = 0;
        int apiVersionCases = 0;
        List<String> failures = new ArrayList<>();
        List<String> withoutKafkaClass = new ArrayList<>();
        int selfCases = 0;
        Random rnd = new Random(20261124);
        for (TestSpecs.Spec spec : specs) {
            Class<?> kiriClass = Class.forName("kiri.protocol.message." + spec.name());
            Class<?> kafkaClass;
            try {
                kafkaClass = Class.forName(spec.kafkaClass());
            } catch (ClassNotFoundException e) {
                // kafka-clients 4.x ships a few ZooKeeper-era specs without a class (their validVersions are
                // "none"); any versions they have get a Kiri-only round trip, and they are listed in the output.
                withoutKafkaClass.add(spec.name());
                for (short v = spec.lowest(); v <= spec.highest(); v++) {
                    selfCases++;
                    for (int i = 0; i <= RANDOM_PER_CASE; i++) {
                        Message m = (Message) Mirror.build(kiriClass, TestSpecs.random(spec, v, rnd), false);
                        byte[] b = kiriBytes(m, v);
                        Message back = kiriRead(kiriClass, new WireReader(MemorySegment.ofArray(b)), v);
                        assertEquals(m, back, spec.name() + " v" + v);
                        assertArrayEquals(b, kiriBytes(back, v));
                    }
                }
                continue;
            }
            for (short v = spec.lowest(); v <= spec.highest(); v++) {
                cases++;
                if (spec.apiKey() >= 0) {
                    apiVersionCases++;
                }
                try {
                    for (int i = 0; i <= RANDOM_PER_CASE; i++) {
                        TestSpecs.Tree tree = i == 0 ? null : TestSpecs.random(spec, v, rnd);
                        kafkaToKiri(kafkaClass, kiriClass, tree, v);
                        kiriToKafka(kafkaClass, kiriClass, tree, v);
                        messages += 2;
                    }
                } catch (AssertionError | Exception e) {
                    failures.add(spec.name() + " v" + v + ": " + e);
                    if (failures.size() < 5) {
                        e.printStackTrace();
                    }
                }
            }
        }
        System.out.printf("differential codec: %d (spec, version) cases x 2 directions = %d cases "
                + "(%d request/response api-version cases), %d messages, %d failed, 0 skipped%n",
                cases, cases * 2, apiVersionCases, messages, failures.size());
        System.out.printf("specs with no kafka-clients class (Kiri-only round trips, %d version cases): %s%n",
                selfCases, withoutKafkaClass);
        assertEquals(List.of(), failures);
        assertTrue(apiVersionCases >= 292 * 2, "api version cases: " + apiVersionCases);
    }

    /** Kafka encodes; Kiri decodes to the same fields and re-encodes the same bytes. */
    private static void kafkaToKiri(Class<?> kafkaClass, Class<?> kiriClass, TestSpecs.Tree tree, short v)
            throws Exception {
        org.apache.kafka.common.protocol.Message kafka = tree == null
                ? (org.apache.kafka.common.protocol.Message) kafkaClass.getConstructor().newInstance()
                : (org.apache.kafka.common.protocol.Message) Mirror.build(kafkaClass, tree, true);
        byte[] kafkaBytes = bytes(MessageUtil.toByteBufferAccessor(kafka, v).buffer());
        org.apache.kafka.common.protocol.Message kafkaDecoded = kafkaRead(kafkaClass, kafkaBytes, v);

        WireReader reader = new WireReader(MemorySegment.ofArray(kafkaBytes));
        Message kiri = kiriRead(kiriClass, reader, v);
        assertEquals(kafkaBytes.length, reader.position(), "Kiri consumed the whole message");
        Mirror.assertSameFields(kafkaDecoded, kiri, kiriClass.getSimpleName());
        assertArrayEquals(kafkaBytes, kiriBytes(kiri, v), "Kiri re-encodes Kafka's bytes");
    }

    /** Kiri encodes; Kafka decodes to the same fields and re-encodes the same bytes. */
    private static void kiriToKafka(Class<?> kafkaClass, Class<?> kiriClass, TestSpecs.Tree tree, short v)
            throws Exception {
        Message kiri = tree == null ? (Message) kiriClass.getConstructor().newInstance()
                : (Message) Mirror.build(kiriClass, tree, false);
        byte[] kiriBytes = kiriBytes(kiri, v);
        org.apache.kafka.common.protocol.Message kafka = kafkaRead(kafkaClass, kiriBytes, v);
        Mirror.assertSameFields(kafka, kiri, kiriClass.getSimpleName());
        assertArrayEquals(kiriBytes, bytes(MessageUtil.toByteBufferAccessor(kafka, v).buffer()),
                "Kafka re-encodes Kiri's bytes");
    }

    static byte[] kiriBytes(Message m, short v) {
        int size = m.size(v);
        MemorySegment out = MemorySegment.ofArray(new byte[size]);
        WireWriter w = new WireWriter(out);
        m.write(w, v);
        assertEquals(size, w.position(), "size() matches what write() wrote");
        return out.toArray(ValueLayout.JAVA_BYTE);
    }

    static Message kiriRead(Class<?> kiriClass, WireReader r, short v) throws Exception {
        Method read = kiriClass.getMethod("read", WireReader.class, short.class);
        try {
            return (Message) read.invoke(null, r, v);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    static org.apache.kafka.common.protocol.Message kafkaRead(Class<?> kafkaClass, byte[] bytes, short v)
            throws Exception {
        return (org.apache.kafka.common.protocol.Message) kafkaClass
                .getConstructor(org.apache.kafka.common.protocol.Readable.class, short.class)
                .newInstance(new ByteBufferAccessor(ByteBuffer.wrap(bytes)), v);
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        d.rewind();
        byte[] out = new byte[d.limit()];
        d.get(out);
        return out;
    }
}
