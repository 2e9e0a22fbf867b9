package kiri.protocol.message;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import kiri.protocol.Message;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.record.BaseRecords;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * Builds Kafka's and Kiri's message objects from the same {@link TestSpecs.Tree} through their
 * setters, and compares a Kafka object with a Kiri object field by field through their getters
 * (both name accessors after the spec's field names).
 */
final class Mirror {
    private static final Set<String> NOT_FIELDS = Set.of("size", "write", "unknownTaggedFields", "lowestSupportedVersion",
            "highestSupportedVersion", "apiKey", "hashCode", "toString", "equals", "getClass", "read");

    private Mirror() {
    }

    // ---------------------------------------------------------------- building

    static Object build(Class<?> cls, TestSpecs.Tree tree, boolean kafka) {
        try {
            Object o = cls.getConstructor().newInstance();
            for (Map.Entry<String, Object> e : tree.fields().entrySet()) {
                Method setter = setter(cls, "set" + Character.toUpperCase(e.getKey().charAt(0)) + e.getKey().substring(1));
                Class<?> param = setter.getParameterTypes()[0];
                Object value = convert(param, setter.getGenericParameterTypes()[0], e.getValue(), cls, kafka);
                setter.invoke(o, value);
            }
            if (!tree.unknownTags().isEmpty()) {
                for (Map.Entry<Integer, byte[]> u : tree.unknownTags().entrySet()) {
                    if (kafka) {
                        ((org.apache.kafka.common.protocol.Message) o).unknownTaggedFields()
                                .add(new org.apache.kafka.common.protocol.types.RawTaggedField(u.getKey(), u.getValue()));
                    } else {
                        ((Message) o).unknownTaggedFields()
                                .add(new kiri.protocol.RawTaggedField(u.getKey(), MemorySegment.ofArray(u.getValue())));
                    }
                }
            }
            return o;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + cls.getName() + " from " + tree, e);
        }
    }

    private static Method setter(Class<?> cls, String name) {
        for (Method m : cls.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == 1) {
                return m;
            }
        }
        throw new IllegalStateException(cls.getName() + " has no setter " + name);
    }

    /** The nested class for a struct, searched in the top-level class that declares all of them. */
    private static Class<?> structClass(Class<?> anyInMessage, String struct) {
        Class<?> top = anyInMessage;
        while (top.getEnclosingClass() != null) {
            top = top.getEnclosingClass();
        }
        for (Class<?> c : top.getDeclaredClasses()) {
            if (c.getSimpleName().equals(struct)) {
                return c;
            }
        }
        throw new IllegalStateException(top.getName() + " has no nested class " + struct);
    }

    private static Object convert(Class<?> param, java.lang.reflect.Type generic, Object v, Class<?> owner,
            boolean kafka) throws ReflectiveOperationException {
        if (v == null) {
            return null;
        }
        if (v instanceof TestSpecs.Tree t) {
            return build(structClass(owner, t.struct()), t, kafka);
        }
        if (v instanceof UUID u) {
            return kafka ? new Uuid(u.getMostSignificantBits(), u.getLeastSignificantBits()) : u;
        }
        if (v instanceof byte[] b) {
            if (param == MemorySegment.class) {
                return MemorySegment.ofArray(b);
            }
            if (param == kiri.protocol.Records.class) {
                return kiri.protocol.Records.of(MemorySegment.ofArray(b));
            }
            if (param == ByteBuffer.class) {
                return ByteBuffer.wrap(b);
            }
            if (BaseRecords.class.isAssignableFrom(param)) {
                return MemoryRecords.readableRecords(ByteBuffer.wrap(b));
            }
            return b;
        }
        if (v instanceof List<?> list) {
            if (param.isArray()) {
                Object array = java.lang.reflect.Array.newInstance(param.getComponentType(), list.size());
                for (int i = 0; i < list.size(); i++) {
                    java.lang.reflect.Array.set(array, i, list.get(i));
                }
                return array;
            }
            @SuppressWarnings("unchecked")
            Collection<Object> out = param.isInterface() ? new ArrayList<>()
                    : (Collection<Object>) param.getConstructor().newInstance();
            Class<?> elementParam = Object.class;
            if (generic instanceof ParameterizedType pt && pt.getActualTypeArguments()[0] instanceof Class<?> c) {
                elementParam = c;
            }
            for (Object e : list) {
                out.add(convert(elementParam, elementParam, e, owner, kafka));
            }
            return out;
        }
        return v; // boxed primitives and strings are the same on both sides
    }

    // ---------------------------------------------------------------- comparing

    /** Asserts that every field of the Kiri object equals the same field of the Kafka object. */
    static void assertSameFields(Object kafka, Object kiri, String path) {
        for (Method getter : kiri.getClass().getDeclaredMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !Modifier.isPublic(getter.getModifiers()) || NOT_FIELDS.contains(getter.getName())) {
                continue;
            }
            try {
                Method kafkaGetter = kafka.getClass().getMethod(getter.getName());
                compare(kafkaGetter.invoke(kafka), getter.invoke(kiri), path + "." + getter.getName());
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(path + "." + getter.getName() + ": " + e, e);
            }
        }
        List<org.apache.kafka.common.protocol.types.RawTaggedField> kafkaUnknown =
                ((org.apache.kafka.common.protocol.Message) kafka).unknownTaggedFields();
        List<kiri.protocol.RawTaggedField> kiriUnknown = ((Message) kiri).unknownTaggedFields();
        if (kafkaUnknown.size() != kiriUnknown.size()) {
            throw new AssertionError(path + ": unknown tagged fields " + kafkaUnknown + " vs " + kiriUnknown);
        }
        for (int i = 0; i < kiriUnknown.size(); i++) {
            if (kafkaUnknown.get(i).tag() != kiriUnknown.get(i).tag()) {
                throw new AssertionError(path + ": unknown tag " + i + " differs");
            }
            compare(kafkaUnknown.get(i).data(), kiriUnknown.get(i).data(), path + ".unknownTag" + kiriUnknown.get(i).tag());
        }
    }

    private static void compare(Object kafka, Object kiri, String path) {
        if (kafka == null || kiri == null) {
            if (kafka != kiri) {
                throw new AssertionError(path + ": " + kafka + " vs " + kiri);
            }
            return;
        }
        if (kiri instanceof kiri.protocol.Records r) {
            kiri = r.memory(); // decoded records are a view of the frame
        }
        switch (kiri) {
            case MemorySegment seg -> {
                byte[] expected = switch (kafka) {
                    case byte[] b -> b;
                    case ByteBuffer bb -> bytes(bb);
                    case MemoryRecords r -> bytes(r.buffer());
                    default -> throw new AssertionError(path + ": unexpected Kafka type " + kafka.getClass());
                };
                if (!Arrays.equals(expected, seg.toArray(ValueLayout.JAVA_BYTE))) {
                    throw new AssertionError(path + ": bytes differ");
                }
            }
            case UUID u -> {
                Uuid k = (Uuid) kafka;
                if (k.getMostSignificantBits() != u.getMostSignificantBits()
                        || k.getLeastSignificantBits() != u.getLeastSignificantBits()) {
                    throw new AssertionError(path + ": " + k + " vs " + u);
                }
            }
            case Message m -> assertSameFields(kafka, m, path);
            case List<?> list -> compareSequence((Iterable<?>) kafka, list, path);
            case Object array when array.getClass().isArray() -> {
                List<Object> boxed = new ArrayList<>();
                for (int i = 0; i < java.lang.reflect.Array.getLength(array); i++) {
                    boxed.add(java.lang.reflect.Array.get(array, i));
                }
                compareSequence((Iterable<?>) kafka, boxed, path);
            }
            default -> {
                if (!kafka.equals(kiri)) {
                    throw new AssertionError(path + ": " + kafka + " vs " + kiri);
                }
            }
        }
    }

    private static void compareSequence(Iterable<?> kafka, List<?> kiri, String path) {
        Iterator<?> k = kafka.iterator();
        int i = 0;
        for (Object e : kiri) {
            if (!k.hasNext()) {
                throw new AssertionError(path + ": Kafka has fewer elements than " + kiri.size());
            }
            compare(k.next(), e, path + "[" + i++ + "]");
        }
        if (k.hasNext()) {
            throw new AssertionError(path + ": Kafka has more elements than " + kiri.size());
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
