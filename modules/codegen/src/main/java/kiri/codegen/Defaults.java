package kiri.codegen;

import kiri.codegen.Spec.ArrayOf;
import kiri.codegen.Spec.Field;
import kiri.codegen.Spec.Primitive;
import kiri.codegen.Spec.StructRef;
import kiri.codegen.Spec.Type;

/** Java types and default-value expressions for spec fields. */
final class Defaults {
    private Defaults() {
    }

    static String javaType(Type type) {
        return switch (type) {
            case Primitive p -> switch (p) {
                case BOOL -> "boolean";
                case INT8 -> "byte";
                case INT16 -> "short";
                case UINT16, INT32 -> "int";
                case UINT32, INT64 -> "long";
                case FLOAT64 -> "double";
                case UUID -> "java.util.UUID";
                case STRING -> "String";
                case BYTES -> "java.lang.foreign.MemorySegment";
                case RECORDS -> "kiri.protocol.Records";
            };
            case StructRef s -> s.name();
            case ArrayOf(Primitive p) when primitiveArray(p) != null -> primitiveArray(p);
            case ArrayOf a -> "java.util.List<" + boxed(a.element()) + ">";
        };
    }

    /** Arrays of fixed-size numbers are plain Java arrays: no boxing per element. */
    static String primitiveArray(Primitive p) {
        return switch (p) {
            case INT8 -> "byte[]";
            case INT16 -> "short[]";
            case UINT16, INT32 -> "int[]";
            case UINT32, INT64 -> "long[]";
            case FLOAT64 -> "double[]";
            default -> null;
        };
    }

    private static String boxed(Type t) {
        return switch (t) {
            case Primitive p when p == Primitive.BOOL -> "Boolean";
            case Primitive p -> javaType(p);
            default -> javaType(t);
        };
    }

    static boolean isJavaPrimitive(Type t) {
        return t instanceof Primitive p && p.isFixed() && p != Primitive.UUID;
    }

    /** The Java expression for a field's default; throws {@link SpecException} for a default the type can't take. */
    static String javaExpression(Field f, String where) {
        String d = f.defaultValue();
        Type type = f.type();
        if (type instanceof ArrayOf(Type element)) {
            if ("null".equals(d)) {
                return "null";
            }
            if (d != null && !d.isEmpty()) {
                throw new SpecException(where + ": arrays only take an empty or null default");
            }
            if (element instanceof Primitive p && primitiveArray(p) != null) {
                return "new " + primitiveArray(p).replace("[]", "[0]");
            }
            return "new java.util.ArrayList<>(0)";
        }
        if (type instanceof StructRef(String name)) {
            if ("null".equals(d)) {
                return "null";
            }
            if (d != null && !d.isEmpty()) {
                throw new SpecException(where + ": structs only take an empty or null default");
            }
            return "new " + name + "()";
        }
        Primitive p = (Primitive) type;
        return switch (p) {
            case BOOL -> {
                if (d == null) {
                    yield "false";
                }
                if (d.equalsIgnoreCase("true") || d.equalsIgnoreCase("false")) {
                    yield d.toLowerCase();
                }
                throw new SpecException(where + ": bad bool default '" + d + "'");
            }
            case INT8 -> "(byte) " + integer(d, Byte.MIN_VALUE, Byte.MAX_VALUE, where);
            case INT16 -> "(short) " + integer(d, Short.MIN_VALUE, Short.MAX_VALUE, where);
            case UINT16 -> String.valueOf(integer(d, 0, 65535, where));
            case INT32 -> String.valueOf(integer(d, Integer.MIN_VALUE, Integer.MAX_VALUE, where));
            case UINT32 -> integer(d, 0, 4294967295L, where) + "L";
            case INT64 -> integer(d, Long.MIN_VALUE, Long.MAX_VALUE, where) + "L";
            case FLOAT64 -> {
                try {
                    yield d == null ? "0.0" : Double.toString(Double.parseDouble(d));
                } catch (NumberFormatException e) {
                    throw new SpecException(where + ": bad float64 default '" + d + "'");
                }
            }
            case UUID -> {
                if (d != null && !d.isEmpty()) {
                    throw new SpecException(where + ": only the zero uuid default is supported");
                }
                yield "kiri.protocol.Codec.ZERO_UUID";
            }
            case STRING -> d == null ? "\"\"" : d.equals("null") ? "null" : literal(d);
            case BYTES -> {
                if (d == null || d.isEmpty()) {
                    yield "kiri.protocol.Codec.EMPTY_BYTES";
                }
                if (d.equals("null")) {
                    yield "null";
                }
                throw new SpecException(where + ": bytes only take an empty or null default");
            }
            case RECORDS -> "null";
        };
    }

    private static long integer(String d, long min, long max, String where) {
        if (d == null || d.isEmpty()) {
            return 0;
        }
        long v;
        try {
            v = d.startsWith("0x") ? Long.parseLong(d.substring(2), 16) : Long.parseLong(d);
        } catch (NumberFormatException e) {
            throw new SpecException(where + ": bad integer default '" + d + "'");
        }
        if (v < min || v > max) {
            throw new SpecException(where + ": default " + d + " out of range");
        }
        return v;
    }

    static String literal(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
