package kiri.protocol.message;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The Kafka specs as the tests see them (read independently of the generator), and random
 * messages built from them as neutral value trees: a struct is a {@link Tree}, an array a List,
 * bytes and records are byte[], uuid is {@link UUID}. {@link Mirror} turns trees into Kafka's and
 * Kiri's objects.
 */
final class TestSpecs {
    static final Path DIR = Path.of("target", "kafka-specs", "common", "message");
    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_JAVA_COMMENTS).build();

    /** A struct value: field name -> value, plus unknown tagged fields (tag -> bytes, ascending). */
    record Tree(String struct, Map<String, Object> fields, Map<Integer, byte[]> unknownTags) {
    }

    record Spec(String name, String kind, short apiKey, short lowest, short highest, short flexibleFrom,
            JsonNode fields, Map<String, JsonNode> commonStructs) {
        boolean flexible(short v) {
            return v >= flexibleFrom;
        }

        /** Kafka's class name for this spec. */
        String kafkaClass() {
            return "org.apache.kafka.common.message." + (kind.equals("data") || name.endsWith("Data") ? name : name + "Data");
        }
    }

    static List<Spec> all() {
        try (Stream<Path> files = Files.list(DIR)) {
            List<Spec> out = new ArrayList<>();
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                JsonNode n = JSON.readTree(p.toFile());
                short[] valid = range(n.get("validVersions").asText());
                String flex = n.path("flexibleVersions").asText("none");
                Map<String, JsonNode> common = new HashMap<>();
                for (JsonNode cs : n.path("commonStructs")) {
                    common.put(cs.get("name").asText(), cs.get("fields"));
                }
                out.add(new Spec(n.get("name").asText(), n.get("type").asText(), (short) n.path("apiKey").asInt(-1),
                        valid[0], valid[1], flex.equals("none") ? Short.MAX_VALUE : range(flex)[0], n.get("fields"),
                        common));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static short[] range(String s) {
        if (s == null || s.equals("none")) {
            return new short[] {0, -1};
        }
        if (s.endsWith("+")) {
            return new short[] {Short.parseShort(s.substring(0, s.length() - 1)), Short.MAX_VALUE};
        }
        int dash = s.indexOf('-');
        if (dash > 0) {
            return new short[] {Short.parseShort(s.substring(0, dash)), Short.parseShort(s.substring(dash + 1))};
        }
        return new short[] {Short.parseShort(s), Short.parseShort(s)};
    }

    static boolean in(String versions, short v) {
        short[] r = range(versions);
        return v >= r[0] && v <= r[1];
    }

    /** Random values for every field of the message at version {@code v}. */
    static Tree random(Spec spec, short v, Random rnd) {
        return new Generator(spec, v, rnd).struct(spec.name, spec.fields, 0);
    }

    private static final class Generator {
        private final Spec spec;
        private final short v;
        private final Random rnd;

        Generator(Spec spec, short v, Random rnd) {
            this.spec = spec;
            this.v = v;
            this.rnd = rnd;
        }

        Tree struct(String name, JsonNode fields, int depth) {
            if (fields == null) {
                fields = spec.commonStructs.get(name);
            }
            Map<String, Object> values = new LinkedHashMap<>();
            for (JsonNode f : fields) {
                if (!in(f.get("versions").asText(), v)) {
                    continue;
                }
                if (f.has("tag") && !spec.flexible(v)) {
                    continue;
                }
                boolean nullable = in(f.path("nullableVersions").asText("none"), v);
                values.put(f.get("name").asText(), value(f, f.get("type").asText(), nullable, depth));
            }
            Map<Integer, byte[]> unknown = new LinkedHashMap<>();
            if (spec.flexible(v) && rnd.nextInt(4) == 0) {
                int tag = 500 + rnd.nextInt(100);
                for (int i = rnd.nextInt(3); i >= 0; i--, tag += 1 + rnd.nextInt(3000)) {
                    unknown.put(tag, bytes(rnd.nextInt(6)));
                }
            }
            return new Tree(name, values, unknown);
        }

        Object value(JsonNode f, String type, boolean nullable, int depth) {
            if (nullable && rnd.nextInt(5) == 0) {
                return null;
            }
            if (type.startsWith("[]")) {
                String element = type.substring(2);
                int n = depth > 3 ? 0 : rnd.nextInt(4);
                List<Object> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(Character.isUpperCase(element.charAt(0)) ? struct(element, f.get("fields"), depth + 1)
                            : value(f, element, false, depth + 1));
                }
                return list;
            }
            return switch (type) {
                case "bool" -> rnd.nextBoolean();
                case "int8" -> (byte) rnd.nextInt();
                case "int16" -> (short) pick(rnd.nextInt());
                case "uint16" -> rnd.nextInt(65536);
                case "int32" -> (int) pick(rnd.nextInt());
                case "uint32" -> rnd.nextLong() & 0xffffffffL;
                case "int64" -> pick(rnd.nextLong());
                case "float64" -> rnd.nextInt(4) == 0 ? 0.0 : rnd.nextDouble() * 1e6 - 5e5;
                case "uuid" -> rnd.nextInt(4) == 0 ? new UUID(0, 0) : new UUID(rnd.nextLong(), rnd.nextLong());
                case "string" -> string();
                case "bytes", "records" -> bytes(rnd.nextInt(12));
                default -> struct(type, f.get("fields"), depth + 1);
            };
        }

        /** Mostly random, sometimes the values that expose sign and default bugs. */
        private long pick(long random) {
            return switch (rnd.nextInt(6)) {
                case 0 -> 0;
                case 1 -> -1;
                default -> random;
            };
        }

        private String string() {
            String[] pieces = {"a", "topic", "é", "日本", "\uD83D\uDE00", "-", "_", ".", "0"};
            StringBuilder b = new StringBuilder();
            for (int i = rnd.nextInt(5); i > 0; i--) {
                b.append(pieces[rnd.nextInt(pieces.length)]);
            }
            return b.toString();
        }

        private byte[] bytes(int n) {
            byte[] b = new byte[n];
            rnd.nextBytes(b);
            return b;
        }
    }
}
