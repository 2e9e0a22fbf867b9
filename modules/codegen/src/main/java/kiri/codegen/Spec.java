package kiri.codegen;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The validated model of one Kafka JSON message spec. */
final class Spec {
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
            .build();
    private static final Set<String> KNOWN_SPEC_KEYS = Set.of("apiKey", "type", "listeners", "name", "validVersions",
            "flexibleVersions", "fields", "commonStructs", "latestVersionUnstable");
    private static final Set<String> KNOWN_FIELD_KEYS = Set.of("name", "type", "versions", "nullableVersions",
            "taggedVersions", "tag", "default", "flexibleVersions", "fields", "about", "ignorable", "mapKey",
            "zeroCopy", "entityType");

    enum Kind { REQUEST, RESPONSE, HEADER, DATA }

    /** Field types: a primitive, a struct (by name) or an array of either. */
    sealed interface Type permits Primitive, StructRef, ArrayOf {
        static Type parse(String text, String where) {
            if (text.startsWith("[]")) {
                Type element = parse(text.substring(2), where);
                if (element instanceof ArrayOf) {
                    throw new SpecException(where + ": nested arrays are not allowed");
                }
                if (element == Primitive.RECORDS || element == Primitive.BYTES) {
                    throw new SpecException(where + ": arrays of " + text.substring(2) + " are not supported");
                }
                return new ArrayOf(element);
            }
            for (Primitive p : Primitive.values()) {
                if (p.specName.equals(text)) {
                    return p;
                }
            }
            if (!text.isEmpty() && Character.isUpperCase(text.charAt(0))) {
                return new StructRef(text);
            }
            throw new SpecException(where + ": unknown type '" + text + "'");
        }
    }

    enum Primitive implements Type {
        BOOL("bool", 1), INT8("int8", 1), INT16("int16", 2), UINT16("uint16", 2), INT32("int32", 4),
        UINT32("uint32", 4), INT64("int64", 8), FLOAT64("float64", 8), UUID("uuid", 16),
        STRING("string", -1), BYTES("bytes", -1), RECORDS("records", -1);

        final String specName;
        /** Encoded size when fixed, -1 when variable. */
        final int fixedSize;

        Primitive(String specName, int fixedSize) {
            this.specName = specName;
            this.fixedSize = fixedSize;
        }

        boolean isFixed() {
            return fixedSize > 0;
        }

        boolean canBeNullable() {
            return this == STRING || this == BYTES || this == RECORDS;
        }
    }

    record StructRef(String name) implements Type {
    }

    record ArrayOf(Type element) implements Type {
    }

    record Field(String name, Type type, Versions versions, Versions nullableVersions, Versions taggedVersions,
            int tag, String defaultValue, Versions flexibleOverride, List<Field> fields, String about,
            boolean ignorable) {
        boolean isTagged() {
            return tag >= 0;
        }

        /** The struct this field declares or references, if any. */
        String structName() {
            return switch (type) {
                case StructRef s -> s.name();
                case ArrayOf(StructRef s) -> s.name();
                default -> null;
            };
        }
    }

    record StructDef(String name, List<Field> fields, Versions declaredVersions) {
    }

    final Path file;
    final String name;
    final Kind kind;
    final short apiKey;
    final Versions validVersions;
    final Versions flexibleVersions;
    final List<String> listeners;
    final boolean latestVersionUnstable;
    final List<Field> fields;
    /** Every struct declared in this spec, inline or common, by name. */
    final Map<String, StructDef> structs = new LinkedHashMap<>();

    private Spec(Path file, JsonNode root) {
        this.file = file;
        String where = file.getFileName().toString();
        for (var it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KNOWN_SPEC_KEYS.contains(key)) {
                throw new SpecException(where + ": unknown top-level key '" + key + "'");
            }
        }
        this.name = text(root, "name", where);
        this.kind = switch (text(root, "type", where)) {
            case "request" -> Kind.REQUEST;
            case "response" -> Kind.RESPONSE;
            case "header" -> Kind.HEADER;
            case "data" -> Kind.DATA;
            default -> throw new SpecException(where + ": unknown spec type " + root.get("type"));
        };
        this.apiKey = root.has("apiKey") ? (short) root.get("apiKey").asInt() : -1;
        if ((kind == Kind.REQUEST || kind == Kind.RESPONSE) && apiKey < 0) {
            throw new SpecException(where + ": a " + kind + " needs an apiKey");
        }
        this.validVersions = Versions.parse(text(root, "validVersions", where), null);
        if (validVersions.highest() == Short.MAX_VALUE) {
            throw new SpecException(where + ": validVersions must be bounded");
        }
        this.flexibleVersions = Versions.parse(root.has("flexibleVersions") ? root.get("flexibleVersions").asText() : null,
                Versions.NONE);
        List<String> ls = new ArrayList<>();
        if (root.has("listeners")) {
            root.get("listeners").forEach(n -> ls.add(n.asText()));
        }
        this.listeners = List.copyOf(ls);
        this.latestVersionUnstable = root.path("latestVersionUnstable").asBoolean(false);
        if (root.has("commonStructs")) {
            for (JsonNode cs : root.get("commonStructs")) {
                String csName = text(cs, "name", where);
                Versions v = Versions.parse(text(cs, "versions", where + " " + csName), null);
                List<Field> csFields = parseFields(cs.get("fields"), where + " " + csName, v);
                define(new StructDef(csName, csFields, v), where);
            }
        }
        this.fields = parseFields(root.get("fields"), where, validVersions);
        validate(where);
    }

    static Spec load(Path file) {
        try {
            return new Spec(file, JSON.readTree(file.toFile()));
        } catch (IOException e) {
            throw new SpecException(file + ": unreadable spec: " + e.getMessage());
        }
    }

    private void define(StructDef def, String where) {
        if (def.name().equals(name)) {
            throw new SpecException(where + ": struct " + def.name() + " has the message's name");
        }
        if (structs.putIfAbsent(def.name(), def) != null) {
            throw new SpecException(where + ": struct " + def.name() + " is defined twice");
        }
    }

    private List<Field> parseFields(JsonNode array, String where, Versions parentVersions) {
        List<Field> out = new ArrayList<>();
        if (array == null) {
            return out;
        }
        for (JsonNode f : array) {
            String fname = text(f, "name", where);
            String fw = where + "." + fname;
            for (var it = f.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!KNOWN_FIELD_KEYS.contains(key)) {
                    throw new SpecException(fw + ": unknown field key '" + key + "'");
                }
            }
            Type type = Type.parse(text(f, "type", fw), fw);
            Versions versions = Versions.parse(text(f, "versions", fw), null);
            Versions nullable = Versions.parse(f.has("nullableVersions") ? f.get("nullableVersions").asText() : null,
                    Versions.NONE);
            Versions tagged = Versions.parse(f.has("taggedVersions") ? f.get("taggedVersions").asText() : null,
                    Versions.NONE);
            int tag = f.has("tag") ? f.get("tag").asInt() : -1;
            Versions flexOverride = f.has("flexibleVersions") ? Versions.parse(f.get("flexibleVersions").asText(), null)
                    : null;
            String def = f.has("default") ? f.get("default").asText() : null;
            List<Field> children = List.of();
            if (f.has("fields")) {
                String sname = switch (type) {
                    case StructRef s -> s.name();
                    case ArrayOf(StructRef s) -> s.name();
                    default -> throw new SpecException(fw + ": only struct types may declare fields");
                };
                children = parseFields(f.get("fields"), where + "." + sname, versions);
                define(new StructDef(sname, children, versions), fw);
            }
            out.add(new Field(fname, type, versions, nullable, tagged, tag, def, flexOverride, children,
                    f.path("about").asText(""), f.path("ignorable").asBoolean(false)));
        }
        return out;
    }

    private void validate(String where) {
        validateFields(fields, where);
        for (StructDef s : structs.values()) {
            validateFields(s.fields(), where + "." + s.name());
        }
    }

    private void validateFields(List<Field> list, String where) {
        Set<String> names = new HashSet<>();
        Set<Integer> tags = new HashSet<>();
        for (Field f : list) {
            String fw = where + "." + f.name();
            if (!names.add(f.name())) {
                throw new SpecException(fw + ": duplicate field name");
            }
            if (f.structName() != null && !structs.containsKey(f.structName())) {
                throw new SpecException(fw + ": unknown struct type " + f.structName());
            }
            if (!f.nullableVersions().isEmpty()) {
                boolean ok = switch (f.type()) {
                    case Primitive p -> p.canBeNullable();
                    case StructRef s -> true;
                    case ArrayOf a -> true;
                };
                if (!ok) {
                    throw new SpecException(fw + ": type " + f.type() + " cannot be nullable");
                }
            }
            if (f.isTagged()) {
                if (!tags.add(f.tag())) {
                    throw new SpecException(fw + ": duplicate tag " + f.tag());
                }
                if (f.taggedVersions().isEmpty() || f.taggedVersions().highest() != Short.MAX_VALUE) {
                    throw new SpecException(fw + ": taggedVersions must be open-ended");
                }
                if (!f.taggedVersions().equals(f.versions())) {
                    throw new SpecException(fw + ": tagged fields must have versions == taggedVersions");
                }
                if (!flexibleVersions.contains(f.taggedVersions())) {
                    throw new SpecException(fw + ": tagged fields must be in flexible versions");
                }
                if (f.type() == Primitive.RECORDS) {
                    throw new SpecException(fw + ": records fields cannot be tagged");
                }
                if (f.type() instanceof StructRef && !f.nullableVersions().isEmpty()) {
                    throw new SpecException(fw + ": nullable tagged structs are not supported");
                }
            } else if (!f.taggedVersions().isEmpty()) {
                throw new SpecException(fw + ": taggedVersions without a tag");
            }
            if (f.flexibleOverride() != null) {
                if (f.type() != Primitive.STRING && f.type() != Primitive.BYTES) {
                    throw new SpecException(fw + ": only string and bytes fields may override flexibleVersions");
                }
                if (f.isTagged()) {
                    throw new SpecException(fw + ": a tagged field cannot override flexibleVersions");
                }
            }
            if ("null".equals(f.defaultValue()) && !f.nullableVersions().contains(f.versions())) {
                throw new SpecException(fw + ": default null needs the field to be nullable in all its versions");
            }
            Defaults.javaExpression(f, fw); // validates the default
        }
    }

    private static String text(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new SpecException(where + ": missing '" + key + "'");
        }
        return v.asText();
    }
}
