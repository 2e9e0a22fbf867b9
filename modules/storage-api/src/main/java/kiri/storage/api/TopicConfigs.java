package kiri.storage.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import kiri.protocol.ErrorCode;

/**
 * Kafka 4.1's topic configs: names, types, defaults (what DescribeConfigs reports for a topic without
 * overrides) and validation (what CreateTopics / IncrementalAlterConfigs accept). Engines store only
 * the overrides; this class is the one place that knows the rest, so every engine answers alike.
 *
 * <p>Values and rules are those of Kafka 4.1's {@code LogConfig}, checked against kafka-clients 4.1.1
 * ({@code TopicConfig} names, compression levels, {@code max.message.bytes} = 1 MiB + 12).
 * Stateless and thread-safe.
 */
public final class TopicConfigs {
    private TopicConfigs() {}

    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String COMPRESSION_TYPE = "compression.type";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";
    public static final String MESSAGE_TIMESTAMP_BEFORE_MAX_MS = "message.timestamp.before.max.ms";
    public static final String MESSAGE_TIMESTAMP_AFTER_MAX_MS = "message.timestamp.after.max.ms";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String RETENTION_MS = "retention.ms";
    public static final String SEGMENT_BYTES = "segment.bytes";
    public static final String SEGMENT_MS = "segment.ms";
    public static final String MIN_COMPACTION_LAG_MS = "min.compaction.lag.ms";
    public static final String MAX_COMPACTION_LAG_MS = "max.compaction.lag.ms";
    public static final String REMOTE_STORAGE_ENABLE = "remote.storage.enable";

    private static final String LONG_MAX = Long.toString(Long.MAX_VALUE);
    private static final String THROTTLED_FORMAT = "must be the literal '*' or a list of replicas in the following "
            + "format: [partitionId]:[brokerId],[partitionId]:[brokerId],...";

    /** One config: its type, default as Kafka prints it, and value check (null: any value of the type). */
    private record Def(String name, ConfigEntry.Type type, String defaultValue, Check check) {}

    @FunctionalInterface
    private interface Check {
        /** Returns null if {@code value} (already type-checked) is acceptable, else the reason. */
        String reason(String value);
    }

    private static final SortedMap<String, Def> DEFS = defs();

    private static SortedMap<String, Def> defs() {
        List<Def> d = List.of(
                new Def(CLEANUP_POLICY, ConfigEntry.Type.LIST, "delete", oneOfList("compact", "delete")),
                new Def("compression.gzip.level", ConfigEntry.Type.INT, "-1",
                        v -> { int i = Integer.parseInt(v); return i == -1 || (i >= 1 && i <= 9) ? null : "Value must be between 1 and 9, or -1"; }),
                new Def("compression.lz4.level", ConfigEntry.Type.INT, "9", between(1, 17)),
                new Def(COMPRESSION_TYPE, ConfigEntry.Type.STRING, "producer",
                        oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")),
                new Def("compression.zstd.level", ConfigEntry.Type.INT, "3", between(-131072, 22)),
                new Def("delete.retention.ms", ConfigEntry.Type.LONG, "86400000", atLeast(0)),
                new Def("file.delete.delay.ms", ConfigEntry.Type.LONG, "60000", atLeast(0)),
                new Def("flush.messages", ConfigEntry.Type.LONG, LONG_MAX, atLeast(1)),
                new Def("flush.ms", ConfigEntry.Type.LONG, LONG_MAX, atLeast(0)),
                new Def("follower.replication.throttled.replicas", ConfigEntry.Type.LIST, "", TopicConfigs::throttled),
                new Def("index.interval.bytes", ConfigEntry.Type.INT, "4096", atLeast(0)),
                new Def("leader.replication.throttled.replicas", ConfigEntry.Type.LIST, "", TopicConfigs::throttled),
                new Def("local.retention.bytes", ConfigEntry.Type.LONG, "-2", atLeast(-2)),
                new Def("local.retention.ms", ConfigEntry.Type.LONG, "-2", atLeast(-2)),
                new Def(MAX_COMPACTION_LAG_MS, ConfigEntry.Type.LONG, LONG_MAX, atLeast(1)),
                new Def(MAX_MESSAGE_BYTES, ConfigEntry.Type.INT, "1048588", atLeast(0)),
                // Deprecated no-op in Kafka 4 (no down-conversion any more), still accepted and described.
                new Def("message.downconversion.enable", ConfigEntry.Type.BOOLEAN, "true", null),
                new Def(MESSAGE_TIMESTAMP_AFTER_MAX_MS, ConfigEntry.Type.LONG, "3600000", atLeast(0)),
                new Def(MESSAGE_TIMESTAMP_BEFORE_MAX_MS, ConfigEntry.Type.LONG, LONG_MAX, atLeast(0)),
                new Def(MESSAGE_TIMESTAMP_TYPE, ConfigEntry.Type.STRING, "CreateTime", oneOf("CreateTime", "LogAppendTime")),
                new Def("min.cleanable.dirty.ratio", ConfigEntry.Type.DOUBLE, "0.5",
                        v -> { double x = Double.parseDouble(v); return x >= 0 && x <= 1 ? null : "Value must be between 0 and 1"; }),
                new Def(MIN_COMPACTION_LAG_MS, ConfigEntry.Type.LONG, "0", atLeast(0)),
                new Def(MIN_INSYNC_REPLICAS, ConfigEntry.Type.INT, "1", atLeast(1)),
                new Def("preallocate", ConfigEntry.Type.BOOLEAN, "false", null),
                new Def("remote.log.copy.disable", ConfigEntry.Type.BOOLEAN, "false", null),
                new Def("remote.log.delete.on.disable", ConfigEntry.Type.BOOLEAN, "false", null),
                new Def(REMOTE_STORAGE_ENABLE, ConfigEntry.Type.BOOLEAN, "false", null),
                new Def(RETENTION_BYTES, ConfigEntry.Type.LONG, "-1", null),
                new Def(RETENTION_MS, ConfigEntry.Type.LONG, "604800000", atLeast(-1)),
                new Def(SEGMENT_BYTES, ConfigEntry.Type.INT, "1073741824", atLeast(1024 * 1024)),
                new Def("segment.index.bytes", ConfigEntry.Type.INT, "10485760", atLeast(4)),
                new Def("segment.jitter.ms", ConfigEntry.Type.LONG, "0", atLeast(0)),
                new Def(SEGMENT_MS, ConfigEntry.Type.LONG, "604800000", atLeast(1)),
                new Def("unclean.leader.election.enable", ConfigEntry.Type.BOOLEAN, "false", null));
        TreeMap<String, Def> m = new TreeMap<>();
        for (Def def : d) m.put(def.name(), def);
        return Collections.unmodifiableSortedMap(m);
    }

    private static final SortedMap<String, String> DEFAULTS = defaultsMap();

    private static SortedMap<String, String> defaultsMap() {
        TreeMap<String, String> m = new TreeMap<>();
        DEFS.forEach((name, def) -> m.put(name, def.defaultValue()));
        return Collections.unmodifiableSortedMap(m);
    }

    /** Every topic config with its Kafka 4.1 default, sorted by name. */
    public static SortedMap<String, String> defaults() {
        return DEFAULTS;
    }

    public static Set<String> names() {
        return DEFAULTS.keySet();
    }

    public static boolean isKnown(String name) {
        return DEFS.containsKey(name);
    }

    /** @throws StorageException INVALID_CONFIG for an unknown name */
    public static ConfigEntry.Type type(String name) {
        return def(name).type();
    }

    /** @throws StorageException INVALID_CONFIG for an unknown name */
    public static String defaultValue(String name) {
        return def(name).defaultValue();
    }

    /** The effective value: the override if present, else the default. @throws StorageException INVALID_CONFIG for an unknown name */
    public static String value(Map<String, String> overrides, String name) {
        String v = overrides.get(name);
        return v != null ? v : defaultValue(name);
    }

    public static int intValue(Map<String, String> overrides, String name) {
        return Integer.parseInt(value(overrides, name));
    }

    public static long longValue(Map<String, String> overrides, String name) {
        return Long.parseLong(value(overrides, name));
    }

    public static boolean booleanValue(Map<String, String> overrides, String name) {
        return Boolean.parseBoolean(value(overrides, name));
    }

    public static List<String> listValue(Map<String, String> overrides, String name) {
        return splitList(value(overrides, name));
    }

    /** Whether the topic stamps batches with the broker's time (message.timestamp.type=LogAppendTime). */
    public static boolean isLogAppendTime(Map<String, String> overrides) {
        return "LogAppendTime".equals(value(overrides, MESSAGE_TIMESTAMP_TYPE));
    }

    /**
     * Validates topic config overrides as CreateTopics does and returns them normalized (values
     * trimmed, sorted by name, unmodifiable).
     *
     * @throws StorageException INVALID_CONFIG (unknown name, null or ill-typed value, value out of range,
     *                          inconsistent compaction lags, tiered storage requested)
     */
    public static Map<String, String> validate(Map<String, String> overrides) {
        TreeMap<String, String> out = new TreeMap<>();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String name = e.getKey();
            Def def = def(name);
            if (e.getValue() == null) throw invalid("Null value not supported for topic configs: " + name);
            String value = e.getValue().trim();
            String reason = reason(def, value);
            if (reason != null) throw invalid("Invalid value " + e.getValue() + " for configuration " + name + ": " + reason);
            out.put(name, value);
        }
        long minLag = longValue(out, MIN_COMPACTION_LAG_MS);
        long maxLag = longValue(out, MAX_COMPACTION_LAG_MS);
        if (minLag > maxLag) {
            throw invalid("conflict topic config setting " + MIN_COMPACTION_LAG_MS + " (" + minLag + ") > "
                    + MAX_COMPACTION_LAG_MS + " (" + maxLag + ")");
        }
        if (booleanValue(out, REMOTE_STORAGE_ENABLE)) {
            // Kafka's answer when remote.log.storage.system.enable is off, which is always the case here.
            throw invalid("Tiered Storage functionality is disabled in the broker. "
                    + "Topic cannot be configured with remote log storage.");
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Applies IncrementalAlterConfigs operations to the current overrides, as Kafka does: SET replaces,
     * DELETE reverts to the default, APPEND/SUBTRACT edit list configs (starting from the default when
     * unset; APPEND skips values already present). Returns the new overrides, validated.
     *
     * @throws StorageException INVALID_REQUEST (duplicate name, SET without value), INVALID_CONFIG
     *                          (unknown name, APPEND/SUBTRACT on a non-list config, invalid result)
     */
    public static Map<String, String> apply(Map<String, String> current, List<ConfigOp> ops) {
        TreeMap<String, String> next = new TreeMap<>(current);
        Set<String> seen = new HashSet<>();
        for (ConfigOp op : ops) {
            String name = op.name();
            if (!seen.add(name)) {
                throw new StorageException(ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys: " + name);
            }
            Def def = def(name);
            switch (op.type()) {
                case SET -> {
                    if (op.value() == null) {
                        throw new StorageException(ErrorCode.INVALID_REQUEST, "Null value not supported for : " + name);
                    }
                    next.put(name, op.value());
                }
                case DELETE -> next.remove(name);
                case APPEND, SUBTRACT -> {
                    if (def.type() != ConfigEntry.Type.LIST) {
                        throw invalid("Config value " + (op.type() == ConfigOp.Type.APPEND ? "append" : "subtract")
                                + " is not allowed for config key: " + name);
                    }
                    LinkedHashSet<String> values = new LinkedHashSet<>(splitList(value(next, name)));
                    List<String> delta = op.value() == null ? List.of() : splitList(op.value());
                    if (op.type() == ConfigOp.Type.APPEND) values.addAll(delta);
                    else delta.forEach(values::remove);
                    next.put(name, String.join(",", values));
                }
            }
        }
        return validate(next);
    }

    /**
     * DescribeConfigs rows for a topic: every config, sorted by name, the override where one is set
     * (source DYNAMIC_TOPIC_CONFIG) else Kafka's default (source DEFAULT_CONFIG).
     */
    public static List<ConfigEntry> describe(Map<String, String> overrides) {
        List<ConfigEntry> rows = new ArrayList<>(DEFS.size());
        for (Def def : DEFS.values()) {
            String override = overrides.get(def.name());
            rows.add(override != null
                    ? new ConfigEntry(def.name(), override, ConfigEntry.Source.DYNAMIC_TOPIC_CONFIG, def.type())
                    : new ConfigEntry(def.name(), def.defaultValue(), ConfigEntry.Source.DEFAULT_CONFIG, def.type()));
        }
        return rows;
    }

    /** Kafka's list syntax: comma-separated, items trimmed, empty items dropped. */
    public static List<String> splitList(String value) {
        List<String> out = new ArrayList<>();
        for (String item : value.split(",")) {
            String t = item.trim();
            if (!t.isEmpty()) out.add(t);
        }
        return out;
    }

    private static Def def(String name) {
        Def def = DEFS.get(name);
        if (def == null) throw invalid("Unknown topic config name: " + name);
        return def;
    }

    /** Null if {@code value} parses as the config's type and passes its check, else Kafka's reason text. */
    private static String reason(Def def, String value) {
        try {
            switch (def.type()) {
                case INT -> Integer.parseInt(value);
                case LONG -> Long.parseLong(value);
                case DOUBLE -> Double.parseDouble(value);
                case BOOLEAN -> {
                    if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
                        return "Expected value to be either true or false";
                    }
                }
                default -> { }
            }
        } catch (NumberFormatException e) {
            return "Not a number of type " + def.type();
        }
        return def.check() == null ? null : def.check().reason(value);
    }

    private static Check atLeast(long min) {
        return v -> Long.parseLong(v) >= min ? null : "Value must be at least " + min;
    }

    private static Check between(long min, long max) {
        return v -> {
            long x = Long.parseLong(v);
            if (x < min) return "Value must be at least " + min;
            return x <= max ? null : "Value must be no more than " + max;
        };
    }

    private static Check oneOf(String... allowed) {
        List<String> ok = List.of(allowed);
        return v -> ok.contains(v) ? null : "String must be one of: " + String.join(", ", ok);
    }

    private static Check oneOfList(String... allowed) {
        List<String> ok = List.of(allowed);
        return v -> {
            for (String item : splitList(v)) {
                if (!ok.contains(item)) return "String must be one of: " + String.join(", ", ok);
            }
            return null;
        };
    }

    private static String throttled(String value) {
        List<String> items = splitList(value);
        if (items.equals(List.of("*"))) return null;
        for (String item : items) {
            String[] parts = item.split(":", -1);
            try {
                if (parts.length != 2) return THROTTLED_FORMAT;
                Integer.parseInt(parts[0].trim());
                Integer.parseInt(parts[1].trim());
            } catch (NumberFormatException e) {
                return THROTTLED_FORMAT;
            }
        }
        return null;
    }

    private static StorageException invalid(String message) {
        return new StorageException(ErrorCode.INVALID_CONFIG, message);
    }
}
